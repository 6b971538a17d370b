import type { SessionRecord, SessionState, SessionUpdate, Store } from '../store/store.js';

/** Launches remembered per session, to tell which account a late record belongs to. */
const LAUNCHES_KEPT = 4;

/** What Claude Code says about a session alongside an event (its hooks, its session file). */
export interface SessionFacts {
  readonly sessionId?: string | null;
  readonly cwd?: string | null;
}

export interface Launch {
  readonly paneId: string;
  readonly account: string;
  readonly cwd: string;
  readonly sessionId: string | null;
  /** The launch retries a failing session: its last words stay in status until one lives. */
  readonly keepLastError: boolean;
}

/**
 * The one owner of a pool session's state. Every signal (hooks, session files, screens,
 * transcripts) and the pool report what happened as a named transition; this module decides
 * what the registry says, persists it through the store, and keeps the facts that live only
 * as long as one launch (whether it has worked since, which launch it is).
 *
 * The rules, in one place:
 * - `limited` is sticky: only a new turn (a prompt submitted: its hook or its transcript) or a
 *   launch moves a session off it; its screen and its session file never do.
 * - A screen says idle only of a session that was working or starting.
 */
export class SessionStates {
  private readonly workedSinceLaunch = new Set<string>();
  private readonly launchNumbers = new Map<string, number>();
  private readonly deathCounts = new Map<string, number>();
  /** The last few launches of each session (when, on which account), newest last. */
  private readonly launchHistory = new Map<string, { readonly at: number; readonly account: string }[]>();
  private readonly store: Store;
  private readonly now: () => Date;

  constructor(store: Store, now: () => Date) {
    this.store = store;
    this.now = now;
  }

  // ------------------------------------------------------------------ reads

  get(name: string): SessionRecord | null {
    return this.store.getSession(name);
  }

  list(): SessionRecord[] {
    return this.store.listSessions();
  }

  byPane(paneId: string): SessionRecord | null {
    return this.store.findSessionByPane(paneId);
  }

  bySessionId(sessionId: string): SessionRecord | null {
    return this.store.findSessionBySessionId(sessionId);
  }

  /** Grows with every registry write: equal values mean nothing changed in between. */
  version(): number {
    return this.store.sessionsVersion();
  }

  anyWorking(): boolean {
    return this.list().some((s) => s.state === 'working');
  }

  /** How many times its process has died (or its tmux session vanished) since the daemon started. */
  deaths(name: string): number {
    return this.deathCounts.get(name) ?? 0;
  }

  /** Which launch of the session this is (0: none by this daemon): a death or a screen is judged against it. */
  launchNumber(name: string): number {
    return this.launchNumbers.get(name) ?? 0;
  }

  /**
   * The account the session ran on at `at`: a record written before its last launch (a
   * limit read late, after a swap) belongs to the account of the launch it was written in.
   */
  accountAt(name: string, at: Date): string | null {
    const history = this.launchHistory.get(name) ?? [];
    return (history.findLast((l) => l.at <= at.getTime()) ?? history[0])?.account ?? this.get(name)?.account ?? null;
  }

  /** Whether `at` falls in the session's current launch (a record from before it is history). */
  inCurrentLaunch(name: string, at: Date): boolean {
    const launchedAt = this.get(name)?.launchedAt;
    return !launchedAt || at.getTime() >= launchedAt.getTime();
  }

  /**
   * A prompt was submitted since its launch (its hook, or a user record in its transcript):
   * only such a session can newly hit a limit on screen (a resumed one shows old banners).
   */
  hasWorkedSinceLaunch(name: string): boolean {
    return this.workedSinceLaunch.has(name);
  }

  // ------------------------------------------------------------ transitions

  /** The pool (re)started the session: a new process, nothing known of it yet. */
  launched(name: string, launch: Launch): void {
    const previous = this.get(name);
    this.launchNumbers.set(name, this.launchNumber(name) + 1);
    this.workedSinceLaunch.delete(name);
    const at = this.now();
    // The launch before the first one this daemon made is known only from the registry.
    const before = this.launchHistory.get(name) ?? (previous?.account ? [{ at: previous.launchedAt?.getTime() ?? 0, account: previous.account }] : []);
    const history = [...before, { at: at.getTime(), account: launch.account }].slice(-LAUNCHES_KEPT);
    this.launchHistory.set(name, history);
    this.write({
      name,
      paneId: launch.paneId,
      account: launch.account,
      cwd: launch.cwd,
      state: 'starting',
      launchedAt: at,
      restarts: (previous?.restarts ?? 0) + (previous ? 1 : 0),
      ...(launch.keepLastError ? {} : { lastError: null }),
      ...(launch.sessionId ? { sessionId: launch.sessionId } : {}),
    });
  }

  /** Its new process drew its prompt. */
  ready(name: string): void {
    this.write({ name, state: 'idle' });
  }

  /** `SessionStart`: a new conversation (start-up, resume, /clear). */
  started(name: string, facts: SessionFacts): void {
    this.write({ name, ...known(facts), state: 'idle' });
  }

  /** `UserPromptSubmit` (or a prompt this daemon saw confirmed): it works. */
  promptSubmitted(name: string, facts: SessionFacts = {}): void {
    this.workedSinceLaunch.add(name);
    this.write({ name, ...known(facts), state: 'working' });
  }

  /** `Stop`: the answer is done. */
  answered(name: string, facts: SessionFacts = {}): void {
    this.write({ name, ...known(facts), state: 'idle' });
  }

  /** A usage limit stopped it (hook, transcript or screen). */
  limited(name: string, facts: SessionFacts = {}): void {
    this.write({ name, ...known(facts), state: 'limited' });
  }

  /** `StopFailure` with an error that is not a limit: the turn ended; the error is kept for status. */
  stoppedOnError(name: string, error: string, facts: SessionFacts = {}): void {
    this.write({ name, ...known(facts), state: 'idle', lastError: `StopFailure: ${error}` });
  }

  /**
   * Its screen shows work in progress. Not proof of a prompt since the launch: a resumed
   * session shows a spinner while its start-up hooks run (2.0.77), then its old limit menu.
   */
  seenWorking(name: string): void {
    const state = this.get(name)?.state;
    // A screen read just before a limit (its spinner) must not undo what the StopFailure hook said.
    if (state !== 'working' && state !== 'limited') this.write({ name, state: 'working' });
  }

  /** Its screen shows the idle prompt: a working or starting session has finished. */
  seenIdle(name: string, current: SessionRecord | null = this.get(name)): void {
    if (current?.state === 'working' || current?.state === 'starting') this.write({ name, state: 'idle' });
  }

  /**
   * Claude Code's own `sessions/<pid>.json` for the pane: its conversation id and, while it
   * works, busy. Written only when something changed; `limited` stays (the file says idle).
   */
  observedRunning(name: string, file: { readonly paneId: string; readonly sessionId: string; readonly cwd: string | null; readonly status: 'busy' | 'idle' | null }, current: SessionRecord | null): SessionRecord | null {
    const state: SessionState | undefined = current?.state === 'limited' ? 'limited' : file.status === 'busy' ? 'working' : file.status === 'idle' ? 'idle' : (current?.state ?? undefined);
    if (current?.sessionId === file.sessionId && current.state === state) return current;
    this.write({ name, sessionId: file.sessionId, paneId: file.paneId, ...(file.cwd ? { cwd: file.cwd } : {}), ...(state ? { state } : {}) });
    return this.get(name);
  }

  /** Its process ended (or its tmux session went) without the pool asking: whatever it was doing is lost. */
  exited(name: string): void {
    this.deathCounts.set(name, this.deaths(name) + 1);
  }

  /** Its process exited (or died at start-up: `reason` is its last words). */
  died(name: string, reason: string, sessionId: string | null): void {
    this.write({ name, state: 'dead', lastError: reason, ...(sessionId ? { sessionId } : {}) });
  }

  /** Something went wrong with it that status must show (a relaunch, a continuation). */
  failed(name: string, error: string): void {
    this.write({ name, lastError: error });
  }

  /** A launch lived: the failure it was retried for is over. */
  recovered(name: string, error: string): void {
    if (this.get(name)?.lastError === error) this.write({ name, lastError: null });
  }

  private write(update: SessionUpdate): void {
    this.store.upsertSession(update);
  }
}

function known(facts: SessionFacts): { sessionId?: string; cwd?: string } {
  return { ...(facts.sessionId ? { sessionId: facts.sessionId } : {}), ...(facts.cwd ? { cwd: facts.cwd } : {}) };
}
