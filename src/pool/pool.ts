import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store, SessionRecord } from '../store/store.js';
import type { TmuxClient, PaneInfo } from '../tmux/client.js';
import { launchCommandLine } from '../claude/launch-command.js';
import { classifyScreen, extractResumeHint } from '../claude/screen-state.js';
import { SerialQueue } from '../serial-queue.js';
import { describeError } from '../errors.js';
import { requiredPoolSpecs, allPoolSpecs, type PoolSessionSpec } from './pool-spec.js';
import { lastWords, waitForScreen } from './session-waits.js';
import { SessionFileReader, type RunningSessionFile } from './session-files.js';
import { hasTranscript, transcriptFor } from './transcript-exists.js';
import { isQuickDeath, QUICK_DEATH_MS, retryDelayMs } from './backoff.js';
import { conversationEnd } from '../claude/conversation-tail.js';
import { processAlive } from '../process-alive.js';
import { deliverPrompt } from './deliver-prompt.js';
import { PromptReceipts } from './prompt-receipts.js';

/** A pool session as the switcher saw it before a swap. */
export interface SessionSnapshot {
  readonly name: string;
  readonly paneId: string | null;
  readonly sessionId: string | null;
  readonly cwd: string;
  readonly account: string | null;
  /**
   * It was mid-task (or stopped by the limit mid-task) when the pool was saved. Whether it gets
   * the continuation prompt is decided from its transcript once it has stopped; this is the
   * fallback when there is no transcript to read.
   */
  readonly working: boolean;
}

/**
 * A continuation prompt's fate: not needed (the conversation was answered), delivered
 * (Claude Code confirmed it), or not delivered (typed again and again, never confirmed).
 */
export type Continuation = 'not-needed' | 'delivered' | 'not-delivered';

export interface RelaunchOutcome {
  readonly name: string;
  readonly sessionId: string | null;
  readonly resumed: boolean;
  /** The continuation prompt was delivered (Claude Code confirmed it). */
  readonly prompted: boolean;
  readonly continuation: Continuation;
  /** Relaunched and, when it needed one, continued: a session that really moved. */
  readonly ok: boolean;
  readonly error: string | null;
}

/**
 * Cleared before Claude Code starts, so the screen left by the previous process (its idle
 * prompt, its limit banner) can never pass for the new process being ready.
 */
const CLEAR_SCREEN = "printf '\\033[3J\\033[H\\033[2J'; ";

export interface PoolDeps {
  readonly config: Config;
  readonly tmux: TmuxClient;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** The account a session must run on when it is (re)started outside a swap. */
  readonly activeAccount: () => Account | null;
  /** Called once per failure streak of a session that dies right after its launch. */
  readonly onSessionFailing: (name: string, reason: string) => void;
  readonly newSessionId?: () => string;
  /** A session was (re)launched: the monitor forgets what its screen showed before. */
  readonly onLaunched?: (name: string) => void;
  /** How long a launch must live to count as started (shorter: a failed launch). */
  readonly quickDeathMs?: number;
  readonly readyTimeoutMs?: number;
  /** The prompts Claude Code confirmed (UserPromptSubmit hooks), fed by the monitor. */
  readonly receipts?: PromptReceipts;
  /** How many times a continuation prompt is typed before it is reported as not delivered. */
  readonly deliveryAttempts?: number;
  readonly deliveryConfirmMs?: number;
}

const NO_CONVERSATION = /No conversation found with session ID/;
/** Two Ctrl-C back to back are taken by Claude Code as one: the second must come apart. */
const CTRL_C_GAP_MS = 300;
/** How long a working session gets to exit on its own before the relaunch kills it. */
const STOP_TIMEOUT_MS = 3000;

/** A session whose launches keep dying: kept until one launch lives past `quickDeathMs`. */
interface FailureStreak {
  /** Failed launches in a row. */
  readonly count: number;
  readonly nextAttemptAt: number;
  /** Its last words: shown in status (lastError) for as long as the streak lasts. */
  readonly reason: string;
  /** Which launch's death this entry judged (see `launches`), so one death counts once. */
  readonly launch: number;
  notified: boolean;
}

/**
 * Owns the managed tmux sessions: keeps the required ones alive on the active account,
 * restarts a dead one with `--resume` of its conversation (backing off when a launch keeps
 * failing), and stops and relaunches all of them for a swap. Nothing outside the pool's
 * names is ever touched.
 */
export class Pool {
  private readonly lock = new SerialQueue();
  private readonly failures = new Map<string, FailureStreak>();
  /** A number per launch of each session, so a death is judged once, when it is first seen. */
  private readonly launches = new Map<string, number>();
  private readonly deps: PoolDeps;
  private readonly specs: Map<string, PoolSessionSpec>;
  private readonly sessionFiles = new SessionFileReader();
  readonly receipts: PromptReceipts;

  constructor(deps: PoolDeps) {
    this.deps = deps;
    this.receipts = deps.receipts ?? new PromptReceipts();
    this.specs = new Map(allPoolSpecs(deps.config).map((s) => [s.name, s]));
  }

  /** Runs `task` with the pool to itself: reconciling and swapping never interleave. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.lock.run(task);
  }

  /** Stops watching the session files (the daemon is stopping). */
  close(): void {
    this.sessionFiles.close();
  }

  isPoolSession(name: string): boolean {
    return this.specs.has(name);
  }

  /** The pool's panes by session name, from one tmux call. */
  async poolPanes(): Promise<Map<string, PaneInfo>> {
    const panes = await this.deps.tmux.listPanes();
    const out = new Map<string, PaneInfo>();
    for (const p of panes) if (this.specs.has(p.sessionName) && !out.has(p.sessionName)) out.set(p.sessionName, p);
    return out;
  }

  /** Brings the pool to what the config asks for; called on every tick. */
  reconcile(): Promise<void> {
    return this.exclusive(() => this.reconcileNow());
  }

  private async reconcileNow(): Promise<void> {
    const account = this.deps.activeAccount();
    if (!account) return;
    const panes = await this.poolPanes();
    const registry = await this.learnFromSessionFiles(account, panes);
    const required = requiredPoolSpecs(this.deps.config, new Set(panes.keys()));
    // Until a session needs work (an await, during which hooks may write), the registry read
    // above is current: a healthy pool costs one registry read, not one per session.
    let acted = false;
    for (const spec of required) {
      const pane = panes.get(spec.name);
      const record: SessionRecord | null = acted ? this.deps.store.getSession(spec.name) : (registry.get(spec.name) ?? null);
      const movable = isOnOtherAccount(record, account);
      acted ||= !pane || pane.dead || movable;
      try {
        if (!pane) {
          await this.startWhenDue(spec, account, record, null);
        } else if (pane.dead) {
          await this.handleDeath(spec, account, record, pane);
        } else if (movable && record) {
          // Left on another account (a crash mid-swap, or a manual change): move it over.
          this.deps.logger.info({ session: spec.name, from: record.account, to: account.name }, 'session on the wrong account: relaunching');
          await this.relaunchOne(this.snapshotOf(spec, pane, record, false), account, null);
        } else {
          this.endStreakIfStarted(spec.name, record);
        }
      } catch (err) {
        this.deps.logger.warn({ session: spec.name, err: describeError(err) }, 'could not reconcile session');
      }
    }
  }

  /**
   * `<home>/sessions/<pid>.json` is the cheapest map from pane to conversation. Each session's
   * file is read from the home of the account it runs under, which is not the active one
   * while it waits to be moved (or after a swap was interrupted).
   */
  private async learnFromSessionFiles(active: Account, panes: Map<string, PaneInfo>): Promise<Map<string, SessionRecord>> {
    const runsOn = new Map(this.deps.store.listSessions().map((s) => [s.name, s.account]));
    const panesByHome = new Map<string, Map<string, PaneInfo>>();
    for (const pane of panes.values()) {
      const home = this.deps.config.accounts.find((a) => a.name === runsOn.get(pane.sessionName))?.home ?? active.home;
      const byPane = panesByHome.get(home) ?? new Map<string, PaneInfo>();
      byPane.set(pane.paneId, pane);
      panesByHome.set(home, byPane);
    }
    const found: { pane: PaneInfo; file: RunningSessionFile }[] = [];
    for (const [home, byPane] of panesByHome) {
      for (const file of await this.sessionFiles.read(home)) {
        const pane = file.paneId ? byPane.get(file.paneId) : undefined;
        // A process killed by a respawn may leave its file behind, naming the same pane.
        if (pane && (file.pid === pane.panePid || processAlive(file.pid))) found.push({ pane, file });
      }
    }
    // The registry is read after the files, with no await before the writes: a hook that
    // arrived meanwhile (a StopFailure marking the session limited) is not overwritten.
    const registry = new Map(this.deps.store.listSessions().map((s) => [s.name, s]));
    for (const { pane, file } of found) {
      const record = registry.get(pane.sessionName);
      const state = record?.state === 'limited' ? 'limited' : file.status === 'busy' ? 'working' : file.status === 'idle' ? 'idle' : record?.state;
      if (record?.sessionId !== file.sessionId || record.state !== state) {
        this.deps.store.upsertSession({ name: pane.sessionName, sessionId: file.sessionId, paneId: pane.paneId, ...(file.cwd ? { cwd: file.cwd } : {}), ...(state ? { state } : {}) });
        const updated = this.deps.store.getSession(pane.sessionName);
        if (updated) registry.set(pane.sessionName, updated);
      }
    }
    return registry;
  }

  private async startWhenDue(spec: PoolSessionSpec, account: Account, record: SessionRecord | null, reason: string | null): Promise<void> {
    const failure = this.failures.get(spec.name);
    if (failure && failure.nextAttemptAt > this.deps.now().getTime()) return;
    const sessionId = reason !== null && NO_CONVERSATION.test(reason) ? null : (record?.sessionId ?? null);
    await this.launchNew(spec, account, sessionId, record?.cwd ?? spec.project);
  }

  private get quickDeathMs(): number {
    return this.deps.quickDeathMs ?? QUICK_DEATH_MS;
  }

  /** A live session whose launch has lived past the threshold ends its failure streak. */
  private endStreakIfStarted(name: string, record: SessionRecord | null): void {
    const failure = this.failures.get(name);
    if (!failure || failure.launch === this.launches.get(name)) return; // its last failed launch is still the current one
    const launchedAt = record?.launchedAt?.getTime() ?? 0;
    if (isQuickDeath(launchedAt, this.deps.now().getTime(), this.quickDeathMs)) return;
    this.failures.delete(name);
    if (record?.lastError === failure.reason) this.deps.store.upsertSession({ name, lastError: null });
    this.deps.logger.info({ session: name, failures: failure.count }, 'session started after failed launches');
  }

  /**
   * A dead pane. Its death is judged once, when first seen: quick (within `quickDeathMs` of
   * its launch) starts or extends a failure streak, and the pane (its last words) stays until
   * the backoff has passed; otherwise it is restarted at once with its conversation.
   */
  private async handleDeath(spec: PoolSessionSpec, account: Account, record: SessionRecord | null, pane: PaneInfo): Promise<void> {
    const now = this.deps.now().getTime();
    const failure = this.failures.get(spec.name);
    const cwd = record?.cwd ?? spec.project;
    if (failure && failure.launch === this.launches.get(spec.name)) {
      if (failure.nextAttemptAt > now) return;
      const sessionId = record?.sessionId ?? null;
      this.deps.logger.info({ session: spec.name, sessionId, failures: failure.count }, 'retrying a failed session');
      await this.respawn(spec.name, pane.paneId, account, NO_CONVERSATION.test(failure.reason) ? null : sessionId, cwd);
      return;
    }
    const capture = await this.deps.tmux.capturePane(pane.paneId, 60, { history: true }).catch(() => '');
    const words = lastWords(capture);
    const sessionId = record?.sessionId ?? extractResumeHint(capture);
    if (isQuickDeath(record?.launchedAt?.getTime() ?? 0, now, this.quickDeathMs)) {
      const count = (failure?.count ?? 0) + 1;
      const delay = retryDelayMs(count);
      const reason = words || `exited with status ${pane.deadStatus ?? '?'}`;
      const streak: FailureStreak = { count, nextAttemptAt: now + delay, reason, launch: this.launches.get(spec.name) ?? 0, notified: failure?.notified ?? false };
      this.failures.set(spec.name, streak);
      this.deps.store.upsertSession({ name: spec.name, state: 'dead', lastError: reason, ...(sessionId ? { sessionId } : {}) });
      this.deps.logger.warn({ session: spec.name, failures: count, retryInMs: delay, reason }, 'session died right after its launch');
      if (!streak.notified) {
        streak.notified = true;
        this.deps.onSessionFailing(spec.name, reason);
      }
      return;
    }
    this.failures.delete(spec.name);
    this.deps.logger.info({ session: spec.name, sessionId }, 'session exited: restarting it with its conversation');
    const resumeId = NO_CONVERSATION.test(words) ? null : sessionId;
    if (resumeId === null && sessionId) this.deps.logger.warn({ session: spec.name, sessionId }, 'its conversation cannot be resumed here: starting a new one (the transcript is kept)');
    await this.respawn(spec.name, pane.paneId, account, resumeId, cwd);
  }

  /**
   * Resume when the conversation has a transcript the account can see; a known id with no
   * transcript yet (nothing was ever asked) starts fresh under that same id.
   */
  private conversation(account: Account, sessionId: string | null, cwd: string): { resumeId: string | null; newSessionId: string | null } {
    if (sessionId && hasTranscript(account.home, cwd, sessionId)) return { resumeId: sessionId, newSessionId: null };
    return { resumeId: null, newSessionId: sessionId ?? (this.deps.newSessionId ?? randomUUID)() };
  }

  /**
   * Where a session starts: its recorded cwd, or its configured project when that directory
   * is gone (tmux would silently start it in the daemon's own directory).
   */
  private launchDir(name: string, cwd: string): string {
    if (isDirectory(cwd)) return cwd;
    const project = this.specs.get(name)?.project ?? cwd;
    this.deps.logger.warn({ session: name, cwd, project }, 'its working directory is gone: starting it in its project dir');
    return project;
  }

  private async launchNew(spec: PoolSessionSpec, account: Account, sessionId: string | null, recordedCwd: string): Promise<{ sessionId: string; resumed: boolean }> {
    const cwd = this.launchDir(spec.name, recordedCwd);
    const conversation = this.conversation(account, sessionId, cwd);
    const command = CLEAR_SCREEN + launchCommandLine({ ...this.launchBase(account), ...conversation });
    const { paneId } = await this.deps.tmux.newSession({ name: spec.name, cwd, command, keepPaneOnExit: true });
    const id = conversation.resumeId ?? conversation.newSessionId ?? '';
    this.recordLaunch(spec.name, paneId, account, id, cwd);
    this.deps.logger.info({ session: spec.name, account: account.name, sessionId: id, resumed: conversation.resumeId !== null }, 'session started');
    return { sessionId: id, resumed: conversation.resumeId !== null };
  }

  private async respawn(name: string, paneId: string, account: Account, sessionId: string | null, recordedCwd: string): Promise<{ sessionId: string; resumed: boolean }> {
    const cwd = this.launchDir(name, recordedCwd);
    const conversation = this.conversation(account, sessionId, cwd);
    const command = CLEAR_SCREEN + launchCommandLine({ ...this.launchBase(account), ...conversation });
    await this.deps.tmux.respawnPane({ target: paneId, command, cwd, kill: true });
    const id = conversation.resumeId ?? conversation.newSessionId ?? '';
    this.recordLaunch(name, paneId, account, id, cwd);
    this.deps.logger.info({ session: name, account: account.name, sessionId: id, resumed: conversation.resumeId !== null }, 'session started');
    return { sessionId: id, resumed: conversation.resumeId !== null };
  }

  private recordLaunch(name: string, paneId: string, account: Account, sessionId: string | null, cwd: string): void {
    const previous = this.deps.store.getSession(name);
    this.launches.set(name, (this.launches.get(name) ?? 0) + 1);
    this.deps.onLaunched?.(name);
    // While launches keep failing, the last one's words stay visible in status.
    const failing = this.failures.has(name);
    this.deps.store.upsertSession({
      name,
      paneId,
      account: account.name,
      cwd,
      state: 'starting',
      launchedAt: this.deps.now(),
      restarts: (previous?.restarts ?? 0) + (previous ? 1 : 0),
      ...(failing ? {} : { lastError: null }),
      ...(sessionId ? { sessionId } : {}),
    });
  }

  private launchBase(account: Account) {
    const { command, args, env } = this.deps.config.claude;
    return { accountHome: account.home, command, args, env };
  }

  private snapshotOf(spec: PoolSessionSpec, pane: PaneInfo | undefined, record: SessionRecord | null, working: boolean): SessionSnapshot {
    return {
      name: spec.name,
      paneId: pane?.paneId ?? record?.paneId ?? null,
      sessionId: record?.sessionId ?? null,
      cwd: record?.cwd ?? spec.project,
      account: record?.account ?? null,
      working,
    };
  }

  /** The pool as it is now: what a swap saves before it touches anything. */
  async snapshot(): Promise<SessionSnapshot[]> {
    const panes = await this.poolPanes();
    const live = [...panes.values()].filter((p) => !p.dead);
    const screens = live.length > 0 ? await this.deps.tmux.captureMany(live.map((p) => p.paneId), 30).catch(() => new Map<string, string>()) : new Map<string, string>();
    const out: SessionSnapshot[] = [];
    for (const [name, pane] of panes) {
      const spec = this.specs.get(name);
      if (!spec) continue;
      const record = this.deps.store.getSession(name);
      const screen = screens.get(pane.paneId) ?? '';
      const busyOnScreen = classifyScreen(screen, { now: this.deps.now() }).state === 'working';
      const working = record?.state === 'working' || record?.state === 'limited' || busyOnScreen;
      this.deps.logger.debug({ session: name, state: record?.state, busyOnScreen }, 'snapshot');
      out.push(this.snapshotOf(spec, pane, record, working));
    }
    return out;
  }

  /**
   * Starts every session of the snapshot again on `account` (after `stopAll`), resuming its
   * conversation from its own cwd. Which ones get `resumePrompt` is decided from each
   * conversation's transcript now that its process has stopped (a prompt or tool result left
   * unanswered, a limit record with nothing after it, or a turn the stop interrupted), not
   * from the snapshot, which is older than the stop. Runs inside `exclusive`.
   */
  async relaunchAll(snapshot: readonly SessionSnapshot[], account: Account, resumePrompt: string | null, interrupted: ReadonlySet<string> = new Set()): Promise<RelaunchOutcome[]> {
    return Promise.all(
      snapshot.map(async (s) => {
        const current = this.current(s);
        const needed = resumePrompt !== null && (await this.needsContinuation(current, account, interrupted.has(s.name)));
        return this.relaunchOne(current, account, needed ? resumePrompt : null);
      }),
    );
  }

  /** The snapshot brought up to date with the registry: a /clear or a hook since then moved its id. */
  private current(session: SessionSnapshot): SessionSnapshot {
    const record = this.deps.store.getSession(session.name);
    return { ...session, sessionId: record?.sessionId ?? session.sessionId, cwd: record?.cwd ?? session.cwd };
  }

  private async needsContinuation(session: SessionSnapshot, account: Account, interruptedByStop: boolean): Promise<boolean> {
    const transcript = session.sessionId ? transcriptFor(account.home, session.cwd, session.sessionId) : null;
    const end = transcript ? await conversationEnd(transcript) : 'empty';
    this.deps.logger.debug({ session: session.name, end, working: session.working, interruptedByStop }, 'how the conversation ended');
    switch (end) {
      case 'awaiting-answer':
      case 'limited':
        return true;
      case 'interrupted':
        // Our own Ctrl-C ends a turn this way; so does an operator's Escape, which is left alone.
        return interruptedByStop || session.working;
      case 'answered':
        return false;
      case 'empty':
        return transcript === null && session.working;
    }
  }

  /**
   * Stops every session of the snapshot for a swap and returns the ones that were working
   * (their turn was interrupted by the stop). What does not exit is killed by the relaunch.
   */
  async stopAll(snapshot: readonly SessionSnapshot[]): Promise<Set<string>> {
    const interrupted = new Set<string>();
    await Promise.all(
      snapshot.map(async (s) => {
        if (await this.stopOne(s)) interrupted.add(s.name);
      }),
    );
    return interrupted;
  }

  /**
   * Continues a session blocked by a limit on the account it is on (its account reset
   * first): Escape cancels Claude Code's own auto-continue, then the prompt is delivered once.
   */
  async continueSession(name: string, prompt: string): Promise<boolean> {
    const target = this.deps.store.getSession(name)?.paneId ?? name;
    await this.deps.tmux.sendKeys(target, ['Escape']);
    return this.sendPrompt(name, prompt);
  }

  /**
   * An idle session, or one blocked by a limit, has written its transcript: the relaunch's
   * kill loses nothing, so it is not waited for. A working one gets Claude Code's own exit:
   * Ctrl-C, a pause (two Ctrl-C back to back are taken as one), Ctrl-C. Returns whether the
   * session was working.
   */
  private async stopOne(session: SessionSnapshot): Promise<boolean> {
    if (!session.paneId) return false;
    if (this.deps.store.getSession(session.name)?.state !== 'working') return false;
    try {
      const pane = await this.deps.tmux.paneInfo(session.paneId);
      if (pane.dead) return false;
      await this.deps.tmux.sendKeys(session.paneId, ['C-c']);
      await this.deps.sleep(CTRL_C_GAP_MS);
      if ((await this.deps.tmux.paneInfo(session.paneId)).dead) return true;
      await this.deps.tmux.sendKeys(session.paneId, ['C-c']);
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (Date.now() < deadline) {
        if ((await this.deps.tmux.paneInfo(session.paneId)).dead) return true;
        await this.deps.sleep(50);
      }
    } catch {
      // gone already, or tmux hiccup: respawn -k settles it
    }
    return true;
  }

  private async relaunchOne(session: SessionSnapshot, account: Account, prompt: string | null): Promise<RelaunchOutcome> {
    const spec = this.specs.get(session.name);
    if (!spec) return { name: session.name, sessionId: null, resumed: false, prompted: false, continuation: 'not-needed', ok: false, error: 'not a pool session' };
    const failed = (sessionId: string | null, resumed: boolean, error: string): RelaunchOutcome => {
      this.deps.store.upsertSession({ name: session.name, lastError: error });
      return { name: session.name, sessionId, resumed, prompted: false, continuation: prompt ? 'not-delivered' : 'not-needed', ok: false, error };
    };
    try {
      const { sessionId, resumed } =
        session.paneId && (await this.deps.tmux.hasSession(session.name))
          ? await this.respawn(session.name, session.paneId, account, session.sessionId, session.cwd)
          : await this.launchNew(spec, account, session.sessionId, session.cwd);
      const target = this.deps.store.getSession(session.name)?.paneId ?? session.name;
      // The screen was cleared before Claude Code started: a prompt on it is the new process's.
      const ready = await waitForScreen(this.deps.tmux, target, ['idle', 'limited'], ['shell', 'login-needed', 'trust-dialog', 'bypass-dialog'], {
        timeoutMs: this.deps.readyTimeoutMs ?? 60_000,
        intervalMs: 50,
        now: this.deps.now,
        sleep: this.deps.sleep,
      });
      if (!ready.reached) return failed(sessionId, resumed, `not ready after relaunch (${ready.state}): ${lastWords(ready.capture, 3)}`);
      this.deps.store.upsertSession({ name: session.name, state: 'idle' });
      if (!prompt) return { name: session.name, sessionId, resumed, prompted: false, continuation: 'not-needed', ok: true, error: null };
      const transcript = () => this.transcriptOf(session.name, account);
      const delivery = await deliverPrompt(this.deliveryDeps(), { name: session.name, target, transcript }, prompt);
      if (!delivery.delivered) return failed(sessionId, resumed, `the continuation prompt was not delivered (typed ${delivery.attempts} times, never confirmed by Claude Code)`);
      this.deps.logger.info({ session: session.name, sessionId, attempts: delivery.attempts }, 'continuation delivered');
      return { name: session.name, sessionId, resumed, prompted: true, continuation: 'delivered', ok: true, error: null };
    } catch (err) {
      return failed(session.sessionId, false, describeError(err));
    }
  }

  private deliveryDeps() {
    return {
      tmux: this.deps.tmux,
      receipts: this.receipts,
      sleep: this.deps.sleep,
      ...(this.deps.deliveryAttempts ? { attempts: this.deps.deliveryAttempts } : {}),
      ...(this.deps.deliveryConfirmMs ? { confirmMs: this.deps.deliveryConfirmMs } : {}),
    };
  }

  /**
   * Delivers a prompt to a pool session once it is at its prompt (continuations, tasks):
   * true only when Claude Code confirmed it. A slash command (`/clear`, `/exit`) is answered
   * by Claude Code itself, with no hook and no transcript line to confirm it: it is typed once.
   */
  async sendPrompt(name: string, text: string): Promise<boolean> {
    const record = this.deps.store.getSession(name);
    const target = record?.paneId ?? name;
    const ready = await waitForScreen(this.deps.tmux, target, ['idle'], ['shell', 'login-needed'], { timeoutMs: 30_000, now: this.deps.now, sleep: this.deps.sleep });
    if (!ready.reached) return false;
    if (text.startsWith('/')) {
      await this.deps.tmux.sendText(target, text);
      return true;
    }
    const account = this.deps.config.accounts.find((a) => a.name === record?.account) ?? this.deps.activeAccount();
    const transcript = () => (account ? this.transcriptOf(name, account) : Promise.resolve(null));
    return (await deliverPrompt(this.deliveryDeps(), { name, target, transcript }, text)).delivered;
  }

  /**
   * The transcript a session writes now: its conversation id from its running process's
   * `sessions/<pid>.json` (current even right after a /clear), else from the registry.
   */
  private async transcriptOf(name: string, account: Account): Promise<string | null> {
    const record = this.deps.store.getSession(name);
    const files = record?.paneId ? await this.sessionFiles.read(account.home) : [];
    const running = files.find((f) => f.paneId === record?.paneId && processAlive(f.pid));
    const sessionId = running?.sessionId ?? record?.sessionId ?? null;
    const cwd = running?.cwd ?? record?.cwd ?? null;
    return sessionId && cwd ? transcriptFor(account.home, cwd, sessionId) : null;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Left on another account (a crash mid-swap, or a manual change) and free to be moved over. */
function isOnOtherAccount(record: SessionRecord | null, active: Account): boolean {
  return record?.account != null && record.account !== active.name && record.state !== 'working';
}
