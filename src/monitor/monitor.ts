import { open } from 'node:fs/promises';
import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { TmuxClient } from '../tmux/client.js';
import { classifyScreen } from '../claude/screen-state.js';
import { parseTranscriptLine, type TranscriptSignal } from '../claude/transcript-record.js';
import { isSameOrInside } from '../config/paths.js';
import type { ControlEvent } from './control-socket.js';
import { morePrecise, precisionOfSource, type LimitEvent, type LimitSource, type ResetPrecision } from './limit-event.js';

export interface HookMessage {
  readonly event: string;
  readonly pane: string | null;
  readonly payload: unknown;
}

export interface MonitorDeps {
  readonly config: Config;
  readonly store: Store;
  readonly tmux: TmuxClient;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The account the link points to: where sessions outside the pool run. */
  readonly activeAccount: () => Account | null;
  /** A new exhaustion (not a repeat of one already known) of `account`. */
  readonly onLimit: (event: LimitEvent) => void;
  /** Usage crossed monitor.proactivePercent on the account. */
  readonly onNearLimit: (account: string, percent: number, resetsAt: Date | null) => void;
  /** Which signals to use (all by default): lets a test or the benchmark isolate one. */
  readonly sources?: ReadonlySet<LimitSource>;
  /** A pool session's Claude Code confirmed a prompt (its UserPromptSubmit hook). */
  readonly onPromptSubmitted?: (session: string, prompt: string) => void;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Turns every signal Claude Code gives (hooks, transcripts, statusline, pane text) into
 * LimitEvents and session states. Repeats of a known limit update nothing but the reset's
 * precision, so ten sessions reporting one limit make one switch request.
 */
export class Monitor {
  private readonly deps: MonitorDeps;
  /** Pool sessions seen working since their launch: only they can newly hit a limit on screen. */
  private readonly workedSinceLaunch = new Set<string>();
  private readonly proactiveFired = new Map<string, number>();
  /** Each pool screen as last read and classified (unless it showed a limit), and when. */
  private readonly lastScreens = new Map<string, { readonly capture: string; readonly screen: ReturnType<typeof classifyScreen>; readonly activity: number | null; readonly readAtSecond: number }>();
  /** The registry's version when a poll last went through every pane; null before the first. */
  private registryVersionPolled: number | null = null;
  readonly counts = { events: 0, duplicates: 0 };

  constructor(deps: MonitorDeps) {
    this.deps = deps;
  }

  private enabled(source: LimitSource): boolean {
    return !this.deps.sources || this.deps.sources.has(source);
  }

  /** The account a transcript path belongs to: its home, or the link (sessions outside the pool follow it). */
  accountForPath(path: string | null): Account | null {
    if (path) {
      const own = this.deps.config.accounts.find((a) => isSameOrInside(path, a.home));
      if (own) return own;
    }
    return this.deps.activeAccount();
  }

  private accountForSession(name: string | null, fallbackPath: string | null): Account | null {
    const stored = name ? this.deps.store.getSession(name)?.account : null;
    return this.deps.config.accounts.find((a) => a.name === stored) ?? this.accountForPath(fallbackPath);
  }

  private sessionForPane(pane: string | null): string | null {
    return pane ? (this.deps.store.findSessionByPane(pane)?.name ?? null) : null;
  }

  /** What the hooks and the statusline send over the control socket. */
  handleControlEvent(event: ControlEvent): void {
    if (event.type === 'hook') this.handleHook(event);
    else this.handleStatusline(event.pane, event.payload);
  }

  handleHook(message: HookMessage): void {
    const payload = record(message.payload);
    const name = this.sessionForPane(message.pane);
    const sessionId = str(payload.session_id);
    const transcript = str(payload.transcript_path);
    this.deps.logger.debug({ event: message.event, pane: message.pane, session: name, sessionId }, 'hook');
    if (name) {
      const update: Parameters<Store['upsertSession']>[0] = { name, ...(sessionId ? { sessionId } : {}), ...(str(payload.cwd) ? { cwd: str(payload.cwd) ?? '' } : {}), ...(transcript ? { transcriptPath: transcript } : {}) };
      switch (message.event) {
        case 'SessionStart':
          this.deps.store.upsertSession({ ...update, state: 'idle' });
          break;
        case 'UserPromptSubmit':
          this.workedSinceLaunch.add(name);
          this.deps.store.upsertSession({ ...update, state: 'working' });
          if (typeof payload.prompt === 'string') this.deps.onPromptSubmitted?.(name, payload.prompt);
          break;
        case 'Stop':
          this.deps.store.upsertSession({ ...update, state: 'idle' });
          break;
        case 'StopFailure':
          this.deps.store.upsertSession({ ...update, state: payload.error === 'rate_limit' ? 'limited' : 'idle', ...(payload.error !== 'rate_limit' ? { lastError: `StopFailure: ${String(payload.error)}` } : {}) });
          break;
        default:
          break;
      }
    }
    if (message.event !== 'StopFailure') return;
    if (payload.error !== 'rate_limit') {
      this.deps.logger.warn({ session: name, error: payload.error }, 'a session stopped on an error that is not a usage limit');
      return;
    }
    if (!this.enabled('hook')) return;
    const account = this.accountForSession(name, transcript);
    if (!account) return;
    const detectedAt = this.deps.now();
    // The hook carries no reset time: the transcript's limit record, written just before, has it.
    void this.limitFromTranscriptTail(transcript).then((fromTranscript) => {
      // Resolves later: the daemon may be stopping (its store closed) by then.
      this.handleLimitSafely({
        account: account.name,
        kind: fromTranscript?.kind ?? 'unknown',
        resetsAt: fromTranscript?.resetsAt ?? null,
        precision: fromTranscript?.resetsAt ? 'epoch' : 'guess',
        source: 'hook',
        detectedAt,
        session: name,
        text: fromTranscript?.text ?? null,
      });
    });
  }

  private async limitFromTranscriptTail(path: string | null): Promise<Extract<TranscriptSignal, { type: 'limit' }> | null> {
    if (!path) return null;
    try {
      const file = await open(path, 'r');
      try {
        const { size } = await file.stat();
        const length = Math.min(size, 64 * 1024);
        const buffer = Buffer.alloc(length);
        await file.read(buffer, 0, length, size - length);
        const lines = buffer.toString('utf8').split('\n').reverse();
        for (const line of lines) {
          const signal = parseTranscriptLine(line);
          if (signal?.type === 'limit') return signal;
        }
      } finally {
        await file.close();
      }
    } catch {
      // no transcript to read: the reset stays a guess until another signal brings it
    }
    return null;
  }

  handleTranscript(signal: TranscriptSignal & { file: string }): void {
    const session = this.deps.store.findSessionBySessionId(signal.sessionId);
    if (signal.type === 'activity') {
      if (session && signal.role === 'user') this.workedSinceLaunch.add(session.name);
      return;
    }
    if (!this.enabled('transcript')) return;
    const account = this.deps.config.accounts.find((a) => a.name === session?.account) ?? this.accountForPath(signal.file);
    if (!account) return;
    if (session) this.deps.store.upsertSession({ name: session.name, state: 'limited' });
    this.handleLimit({
      account: account.name,
      kind: signal.kind,
      resetsAt: signal.resetsAt,
      precision: signal.resetsAt ? 'epoch' : 'guess',
      source: 'transcript',
      detectedAt: this.deps.now(),
      session: session?.name ?? null,
      text: signal.text,
    });
  }

  handleStatusline(pane: string | null, payload: unknown): void {
    const body = record(payload);
    const limits = record(body.rate_limits);
    const name = this.sessionForPane(pane);
    const account = this.accountForSession(name, str(body.transcript_path));
    if (!account) return;
    let binding: { percent: number; kind: string; resetsAt: Date | null } | null = null;
    for (const kind of ['five_hour', 'seven_day'] as const) {
      const window = record(limits[kind]);
      const percent = typeof window.used_percentage === 'number' ? window.used_percentage : null;
      if (percent === null) continue;
      const resetsAt = typeof window.resets_at === 'number' ? new Date(window.resets_at * 1000) : null;
      if (!binding || percent > binding.percent) binding = { percent, kind, resetsAt };
      const threshold = this.deps.config.monitor.proactivePercent;
      if (threshold !== null && percent >= threshold && this.enabled('statusline')) {
        const windowKey = `${account.name}:${kind}`;
        const resetKey = resetsAt?.getTime() ?? 0;
        if (this.proactiveFired.get(windowKey) === resetKey) continue;
        this.proactiveFired.set(windowKey, resetKey);
        this.deps.logger.info({ account: account.name, kind, percent, threshold }, 'usage crossed the proactive threshold');
        this.deps.onNearLimit(account.name, percent, resetsAt);
      }
    }
    // The ledger keeps the window closest to its limit: that is the one that will block.
    if (binding) this.deps.store.recordUsage(account.name, binding);
  }

  /** A session was (re)launched: an old banner on its screen is history, not news. */
  sessionLaunched(name: string): void {
    this.workedSinceLaunch.delete(name);
    this.lastScreens.delete(name);
  }

  /** Reads the bottom of every live pool pane in one tmux call; the fallback signal. */
  async pollScreens(panes: ReadonlyMap<string, { paneId: string; dead: boolean; activity?: number | null }>): Promise<void> {
    const live = [...panes.entries()].filter(([, p]) => !p.dead);
    if (live.length === 0) return;
    // A screen whose window has had no output since it was read is as it was: not read again.
    // tmux counts activity in whole seconds (its own clock, this host's): a screen read in the
    // second of its last output is read once more.
    const unchanged = (name: string, activity: number | null | undefined): boolean => {
      const seen = this.lastScreens.get(name);
      return seen !== undefined && activity != null && seen.activity === activity && seen.readAtSecond > activity;
    };
    const skipped = new Set(live.filter(([name, p]) => unchanged(name, p.activity)).map(([name]) => name));
    const toRead = live.filter(([name]) => !skipped.has(name));
    // No screen to read and no registry write since the last full pass: that pass's
    // conclusions stand for every pane, so the registry is not even read (an idle pool).
    if (toRead.length === 0 && this.deps.store.sessionsVersion() === this.registryVersionPolled) return;
    const readAtSecond = Math.floor(Date.now() / 1000);
    const captures = toRead.length > 0 ? await this.deps.tmux.captureMany(toRead.map(([, p]) => p.paneId), 15) : new Map<string, string>();
    const now = this.deps.now();
    // One registry read per poll, not one per pane.
    const registry = new Map(this.deps.store.listSessions().map((s) => [s.name, s]));
    for (const [name, pane] of live) {
      const cached = this.lastScreens.get(name);
      const skip = skipped.has(name);
      const capture = skip ? cached?.capture : captures.get(pane.paneId);
      if (capture === undefined) continue;
      // Most ticks, most screens are as they were (an idle prompt): the last reading stands.
      // A limit screen is read again each time: its reset is resolved against the clock.
      const screen = cached?.capture === capture ? cached.screen : classifyScreen(capture, { now });
      if (screen.state === 'limited') this.lastScreens.delete(name);
      else this.lastScreens.set(name, { capture, screen, activity: pane.activity ?? null, readAtSecond: skip && cached ? cached.readAtSecond : readAtSecond });
      const stored = registry.get(name);
      if (screen.state === 'working') {
        this.workedSinceLaunch.add(name);
        if (stored?.state !== 'working') this.deps.store.upsertSession({ name, state: 'working' });
      } else if (screen.state === 'idle' && (stored?.state === 'working' || stored?.state === 'starting')) {
        this.deps.store.upsertSession({ name, state: 'idle' });
      } else if (screen.state === 'limited' && screen.limit?.blocked && this.workedSinceLaunch.has(name) && this.enabled('screen')) {
        if (stored?.state !== 'limited') this.deps.store.upsertSession({ name, state: 'limited' });
        const account = this.accountForSession(name, null);
        if (!account) continue;
        this.handleLimit({
          account: account.name,
          kind: screen.limit.kind,
          resetsAt: screen.limit.resetsAt,
          precision: screen.limit.resetGuessed ? 'guess' : 'text',
          source: 'screen',
          detectedAt: now,
          session: name,
          text: screen.limit.text,
        });
      }
    }
    this.registryVersionPolled = this.deps.store.sessionsVersion();
  }

  private handleLimitSafely(event: LimitEvent): void {
    try {
      this.handleLimit(event);
    } catch (err) {
      this.deps.logger.warn({ account: event.account, source: event.source, err: err instanceof Error ? err.message : String(err) }, 'a limit could not be recorded');
    }
  }

  /** Records the limit in the ledger; only a new exhaustion is passed on as a switch request. */
  handleLimit(event: LimitEvent): void {
    const { store, logger, config } = this.deps;
    const now = this.deps.now();
    const entry = store.getLedgerEntry(event.account);
    const known = entry?.exhausted === true && entry.resetsAt !== null && entry.resetsAt > now;
    const knownPrecision: ResetPrecision | null = known ? precisionOfSource(entry.source, entry.resetGuessed) : null;
    const resetsAt = event.resetsAt ?? new Date(now.getTime() + config.monitor.fallbackResetMs);
    const precision: ResetPrecision = event.resetsAt ? event.precision : 'guess';
    if (!known || morePrecise(precision, knownPrecision)) {
      store.markExhausted(event.account, {
        kind: event.kind,
        resetsAt,
        resetGuessed: precision === 'guess',
        source: `${event.source}:${precision}`,
        detectedAt: event.detectedAt,
      });
    }
    if (known) {
      this.counts.duplicates++;
      logger.debug({ account: event.account, source: event.source, session: event.session }, 'limit already known');
      return;
    }
    this.counts.events++;
    logger.warn(
      { account: event.account, kind: event.kind, resetsAt: resetsAt.toISOString(), precision, source: event.source, session: event.session, latencyMs: now.getTime() - event.detectedAt.getTime() },
      `usage limit detected (${event.source})`,
    );
    this.deps.onLimit({ ...event, resetsAt, precision });
  }
}
