import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { TmuxClient } from '../tmux/client.js';
import type { TranscriptSignal } from '../claude/transcript-record.js';
import { hookPayload, parsePayload, statuslinePayload, type HookPayload } from '../claude/payloads.js';
import { isSameOrInside } from '../config/paths.js';
import { SessionStates } from '../sessions/session-states.js';
import type { ControlEvent } from './control-socket.js';
import { awaitLimitRecord } from './transcript-tail-limit.js';
import { ScreenPoll, type PolledPane, type ScreenLimit } from './screen-poll.js';
import { closeReopenedMenus } from './reopened-menu.js';
import { morePrecise, precisionOf, precisionOfSource, type LimitEvent, type LimitSource, type ResetPrecision } from './limit-event.js';
import { validReset } from './valid-reset.js';
import { accountForecast, type ForecastCause } from '../usage/account-forecast.js';

const MINUTE_MS = 60_000;

export interface HookMessage { readonly event: string; readonly pane: string | null; readonly payload: unknown }

export interface MonitorDeps {
  readonly config: Config;
  readonly store: Store;
  readonly tmux: TmuxClient;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The pool sessions' states (shared with the pool); one of its own when not given (tests). */
  readonly sessions?: SessionStates;
  /** The account the link points to: where sessions outside the pool run. */
  readonly activeAccount: () => Account | null;
  /** A new exhaustion (not a repeat of one already known) of `account`. */
  readonly onLimit: (event: LimitEvent) => void;
  /** Usage crossed monitor.proactivePercent on the account, or (`forecast`) its forecast limit is within monitor.proactiveForecastMs. */
  readonly onNearLimit: (account: string, percent: number, resetsAt: Date | null, forecast?: ForecastCause) => void;
  /** Which signals to use (all by default): lets a test or the benchmark isolate one. */
  readonly sources?: ReadonlySet<LimitSource>;
  /** A pool session's Claude Code confirmed a prompt (its UserPromptSubmit hook). */
  readonly onPromptSubmitted?: (session: string, prompt: string) => void;
  /** A pool session finished a turn (its Stop hook): a task may be done, the session free. */
  readonly onAnswered?: (session: string) => void;
  /** Every hook and statusline message, before it is handled (metrics count them). */
  readonly onControlEvent?: (event: ControlEvent) => void;
  /** A prompt is being typed into the session now: no other keys are sent to it. */
  readonly beingTyped?: (session: string) => boolean;
}

/**
 * Turns every signal Claude Code gives (hooks, transcripts, statusline, pane text) into
 * session transitions and LimitEvents. Repeats of a known limit update nothing but the
 * reset's precision, so ten sessions reporting one limit make one switch request.
 */
export class Monitor {
  private readonly deps: MonitorDeps;
  readonly sessions: SessionStates;
  private readonly screens: ScreenPoll;
  private readonly proactiveFired = new Map<string, number>();
  /** Each account's latest exact reset (the ledger forgets it when the account comes back). */
  private readonly exactResets = new Map<string, Date>();
  readonly counts = { events: 0, duplicates: 0 };

  constructor(deps: MonitorDeps) {
    this.deps = deps;
    this.sessions = deps.sessions ?? new SessionStates(deps.store, deps.now);
    this.screens = new ScreenPoll(deps.tmux, this.sessions);
  }

  private enabled(source: LimitSource): boolean {
    return !this.deps.sources || this.deps.sources.has(source);
  }

  private accountNamed(name: string | null | undefined): Account | null {
    return this.deps.config.accounts.find((a) => a.name === name) ?? null;
  }

  /** The account whose home a path is in (a hook's transcript path names it), else null. */
  private accountOfPath(path: string | null | undefined): Account | null {
    return path ? (this.deps.config.accounts.find((a) => isSameOrInside(path, a.home)) ?? null) : null;
  }

  /** The account a transcript path belongs to: its home, or the link (sessions outside the pool follow it). */
  accountForPath(path: string | null): Account | null {
    return this.accountOfPath(path) ?? this.deps.activeAccount();
  }

  /** Which account a signal is about: the home its path names (its CLAUDE_CONFIG_DIR), else the session's account then, else the link. */
  private accountFor(name: string | null, path: string | null | undefined, at: Date): Account | null {
    return this.accountOfPath(path) ?? (name ? this.accountNamed(this.sessions.accountAt(name, at)) : null) ?? this.deps.activeAccount();
  }

  /** What the hooks and the statusline send (over the control socket or HTTP). */
  handleControlEvent(event: ControlEvent): void {
    this.deps.onControlEvent?.(event);
    if (event.type === 'hook') void this.handleHook(event);
    else this.handleStatusline(event.pane, event.payload);
  }

  /** Resolves once the hook is fully handled (a limit's reset read from the transcript). */
  async handleHook(message: HookMessage): Promise<void> {
    const payload: HookPayload = parsePayload(hookPayload, message.payload) ?? {};
    const name = message.pane ? (this.sessions.byPane(message.pane)?.name ?? null) : null;
    const facts = { sessionId: payload.session_id ?? null, cwd: payload.cwd ?? null };
    this.deps.logger.debug({ event: message.event, pane: message.pane, session: name, sessionId: facts.sessionId }, 'hook');
    const limit = message.event === 'StopFailure' && payload.error === 'rate_limit';
    if (name) this.hookTransition(name, message.event, payload, facts, limit);
    if (message.event !== 'StopFailure') return;
    if (!limit) {
      this.deps.logger.warn({ session: name, error: payload.error ?? null }, payload.error === undefined ? 'a StopFailure hook came without its error (it may be a limit): left to the transcript and the screen' : 'a session stopped on an error that is not a usage limit');
      return;
    }
    if (!this.enabled('hook')) return;
    const detectedAt = this.deps.now();
    const account = this.accountFor(name, payload.transcript_path, detectedAt);
    if (!account) return;
    // The hook carries no reset time: the limit record the conversation ends on has it (over HTTP it may come just after).
    const fromTranscript = await awaitLimitRecord(payload.transcript_path ?? null);
    // Resolves later: the daemon may be stopping (its store closed) by then.
    this.handleLimitSafely({
      account: account.name,
      kind: fromTranscript?.kind ?? 'unknown',
      resetsAt: fromTranscript?.resetsAt ?? null,
      precision: precisionOf(fromTranscript),
      source: 'hook',
      detectedAt,
      session: name,
      text: fromTranscript?.text ?? null,
    });
  }

  private hookTransition(name: string, event: string, payload: HookPayload, facts: { sessionId: string | null; cwd: string | null }, limit: boolean): void {
    switch (event) {
      case 'SessionStart':
        this.sessions.started(name, facts);
        break;
      case 'UserPromptSubmit':
        this.sessions.promptSubmitted(name, facts);
        if (payload.prompt !== undefined) this.deps.onPromptSubmitted?.(name, payload.prompt);
        break;
      case 'Stop':
        this.sessions.answered(name, facts);
        this.deps.onAnswered?.(name);
        break;
      case 'StopFailure':
        if (limit) this.sessions.limited(name, facts);
        else if (payload.error !== undefined) this.sessions.stoppedOnError(name, payload.error, facts);
        break;
      default:
        break;
    }
  }

  handleTranscript(signal: TranscriptSignal & { file: string }): void {
    const session = this.sessions.bySessionId(signal.sessionId);
    if (signal.type === 'activity') {
      // A record from before the session's current launch (read late) is its old life's, not news.
      if (session && signal.role === 'user' && this.sessions.inCurrentLaunch(session.name, signal.timestamp)) this.sessions.promptSubmitted(session.name);
      return;
    }
    if (!this.enabled('transcript')) return;
    // A record read late (the safety rescan) belongs to the account the session ran on when it was written.
    const account = this.accountFor(session?.name ?? null, signal.file, signal.timestamp);
    if (!account) return;
    if (session && this.sessions.inCurrentLaunch(session.name, signal.timestamp)) this.sessions.limited(session.name);
    this.handleLimit({
      account: account.name,
      kind: signal.kind,
      resetsAt: signal.resetsAt,
      precision: precisionOf(signal),
      source: 'transcript',
      detectedAt: this.deps.now(),
      session: session?.name ?? null,
      text: signal.text,
    });
  }

  handleStatusline(pane: string | null, payload: unknown): void {
    const body = parsePayload(statuslinePayload, payload);
    if (!body) return;
    const name = pane ? (this.sessions.byPane(pane)?.name ?? null) : null;
    const account = this.accountFor(name, body.transcript_path, this.deps.now());
    if (!account) return;
    let binding: { percent: number; kind: string; resetsAt: Date | null } | null = null;
    for (const kind of ['five_hour', 'seven_day'] as const) {
      const window = body.rate_limits?.[kind];
      if (!window) continue;
      const percent = window.used_percentage;
      const resetsAt = validReset(window.resets_at ?? null, this.deps.now());
      if (!binding || percent > binding.percent) binding = { percent, kind, resetsAt };
      this.deps.store.addUsageReading({ account: account.name, window: kind, percent, resetsAt, source: 'statusline' });
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
    if (binding) this.proactiveByForecast(account.name);
  }

  /** `monitor.proactiveForecastMs`: the limit forecast that close starts the same proactive switch. */
  private proactiveByForecast(account: string): void {
    const within = this.deps.config.monitor.proactiveForecastMs;
    if (within === null || !this.enabled('statusline')) return;
    const now = this.deps.now();
    const forecast = accountForecast(this.deps.store, account, now);
    if (forecast.kind !== 'limit' || forecast.at.getTime() - now.getTime() > within) return;
    const windowKey = `${account}:${forecast.window}:forecast`;
    const resetKey = forecast.resetsAt?.getTime() ?? 0;
    if (this.proactiveFired.get(windowKey) === resetKey) return;
    this.proactiveFired.set(windowKey, resetKey);
    this.deps.logger.info({ account, window: forecast.window, percent: forecast.percent, limitAt: forecast.at.toISOString(), percentPerHour: forecast.percentPerHour }, 'the forecast reaches the limit within monitor.proactiveForecastMs');
    this.deps.onNearLimit(account, forecast.percent, forecast.resetsAt, { kind: 'forecast', window: forecast.window, limitAt: forecast.at, percentPerHour: forecast.percentPerHour });
  }

  /** Reads the screens of the pool that changed; a blocking limit on one is a limit signal. */
  async pollScreens(panes: ReadonlyMap<string, PolledPane>): Promise<void> {
    const now = this.deps.now();
    const { limits, reopenedMenus } = await this.screens.poll(panes, now);
    this.handleScreenLimits(limits, now);
    const { tmux, logger, beingTyped } = this.deps;
    await closeReopenedMenus({ tmux, logger, launchNumber: (s) => this.sessions.launchNumber(s), beingTyped: beingTyped ?? (() => false) }, reopenedMenus);
  }

  private handleScreenLimits(limits: readonly ScreenLimit[], now: Date): void {
    for (const { session, limit } of limits) {
      if (!this.enabled('screen')) continue;
      this.sessions.limited(session);
      const account = this.accountNamed(this.sessions.get(session)?.account);
      if (!account) continue;
      this.handleLimit({
        account: account.name,
        kind: limit.kind,
        resetsAt: limit.resetsAt,
        precision: limit.resetGuessed ? 'guess' : 'text',
        source: 'screen',
        detectedAt: now,
        session,
        text: limit.text,
      });
    }
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
    // A reset that is not a real time (out of range), or an exact one already past (an older limit's), is no reset: guess.
    const given = event.resetsAt && validReset(event.resetsAt.getTime() / 1000, now) && !(event.precision === 'epoch' && event.resetsAt <= now) ? event.resetsAt : null;
    // A banner still on screen after the exact reset it stood for has passed (its time cut to the minute;
    // the entry cleared already if the account came back) is that old limit: it must not exhaust it again.
    const exact = entry?.exhausted === true && precisionOfSource(entry.source, entry.resetGuessed) === 'epoch' ? entry.resetsAt : (this.exactResets.get(event.account) ?? null);
    if (exact && exact <= now && event.precision !== 'epoch' && given && Math.abs(given.getTime() - exact.getTime()) < MINUTE_MS) {
      this.counts.duplicates++;
      logger.debug({ account: event.account, source: event.source, session: event.session }, 'a limit whose exact reset has passed, seen again');
      return;
    }
    // Words give the reset to the minute, cut: the end of that minute is the earliest moment
    // the account is sure to be back (a return any sooner meets the limit again).
    // (A limit from the fleet has had that minute added by the host that saw it.)
    const endOfMinute = event.precision === 'text' && event.source !== 'fleet' ? MINUTE_MS : 0;
    const resetsAt = given ? new Date(given.getTime() + endOfMinute) : new Date(now.getTime() + config.monitor.fallbackResetMs);
    const precision: ResetPrecision = given ? event.precision : 'guess';
    if (precision === 'epoch') this.exactResets.set(event.account, resetsAt);
    if (!known || morePrecise(precision, knownPrecision)) {
      store.markExhausted(event.account, { kind: event.kind, resetsAt, resetGuessed: precision === 'guess', source: `${event.source}:${precision}`, detectedAt: event.detectedAt });
      // A limit is a reading of 100% of its window (a guessed reset would mislead the forecast).
      if (event.kind === 'five_hour' || event.kind === 'seven_day') store.addUsageReading({ account: event.account, window: event.kind, percent: 100, resetsAt: precision === 'guess' ? null : resetsAt, source: 'limit' });
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
