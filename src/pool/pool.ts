import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store, SessionRecord } from '../store/store.js';
import type { TmuxClient, PaneInfo } from '../tmux/client.js';
import { classifyScreen, type ScreenState } from '../claude/screen-state.js';
import { SessionStates } from '../sessions/session-states.js';
import { SerialQueue } from '../serial-queue.js';
import { describeError } from '../errors.js';
import { processAlive } from '../process-alive.js';
import { requiredPoolSpecs, allPoolSpecs, type PoolSessionSpec } from './pool-spec.js';
import { waitForScreen } from './session-waits.js';
import { SessionFileReader } from './session-files.js';
import { transcriptFor } from './transcript-exists.js';
import { deliverPrompt, type DeliveryDeps } from './deliver-prompt.js';
import { PromptReceipts } from './prompt-receipts.js';
import { Launcher } from './launcher.js';
import { CrashRecovery } from './crash-recovery.js';
import { SwapRelaunch, type StoppedAs } from './swap-relaunch.js';
import { learnFromSessionFiles } from './session-file-sync.js';
import { finishPlanned, planContinuations, relaunchPlanned, type SwapPlanDeps } from './swap-plan.js';

export type { Continuation, PoolDemand, RelaunchOutcome, SessionSnapshot, TaskDelivery } from './swap-types.js';
import type { PoolDemand, RelaunchOutcome, SessionSnapshot, TaskDelivery } from './swap-types.js';

export interface PoolDeps {
  readonly config: Config;
  readonly tmux: TmuxClient;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** The sessions' states (shared with the monitor); one of its own when not given (tests). */
  readonly sessions?: SessionStates;
  /** The account a session must run on when it is (re)started outside a swap. */
  readonly activeAccount: () => Account | null;
  /** Called once per failure streak of a session that dies right after its launch. */
  readonly onSessionFailing: (name: string, reason: string) => void;
  readonly newSessionId?: () => string;
  /** How long a launch must live to count as started (shorter: a failed launch). */
  readonly quickDeathMs?: number;
  readonly readyTimeoutMs?: number;
  /** The prompts Claude Code confirmed (UserPromptSubmit hooks), fed by the monitor. */
  readonly receipts?: PromptReceipts;
  /** How many times a prompt is typed before it is reported as not delivered. */
  readonly deliveryAttempts?: number;
  readonly deliveryConfirmMs?: number;
  /** Queued work: how many autonomous sessions it wants, and which sessions hold a task. */
  readonly demand?: () => PoolDemand;
}

/**
 * Owns the managed tmux sessions: keeps the required ones alive on the active account
 * (crash-recovery.ts), and stops and relaunches all of them for a swap (swap-relaunch.ts).
 * Nothing outside the pool's names is ever touched.
 */
export class Pool {
  private readonly lock = new SerialQueue();
  private readonly deps: PoolDeps;
  private readonly specs: Map<string, PoolSessionSpec>;
  private readonly sessionFiles = new SessionFileReader();
  readonly sessions: SessionStates;
  readonly receipts: PromptReceipts;
  private readonly crashes: CrashRecovery;
  private readonly swapping: SwapRelaunch;
  private readonly delivery: DeliveryDeps;
  private readonly plan: SwapPlanDeps;

  constructor(deps: PoolDeps) {
    this.deps = deps;
    this.specs = new Map(allPoolSpecs(deps.config).map((s) => [s.name, s]));
    this.sessions = deps.sessions ?? new SessionStates(deps.store, deps.now);
    this.receipts = deps.receipts ?? new PromptReceipts();
    const launcher = new Launcher({ config: deps.config, tmux: deps.tmux, sessions: this.sessions, logger: deps.logger, ...(deps.newSessionId ? { newSessionId: deps.newSessionId } : {}) });
    this.crashes = new CrashRecovery({ tmux: deps.tmux, sessions: this.sessions, launcher, logger: deps.logger, now: deps.now, onSessionFailing: deps.onSessionFailing, ...(deps.quickDeathMs ? { quickDeathMs: deps.quickDeathMs } : {}) });
    this.delivery = {
      tmux: deps.tmux,
      receipts: this.receipts,
      sleep: deps.sleep,
      confirmedByTranscript: (name) => { this.sessions.promptSubmitted(name); },
      ...(deps.deliveryAttempts ? { attempts: deps.deliveryAttempts } : {}),
      ...(deps.deliveryConfirmMs ? { confirmMs: deps.deliveryConfirmMs } : {}),
    };
    this.swapping = new SwapRelaunch({
      tmux: deps.tmux,
      sessions: this.sessions,
      launcher,
      logger: deps.logger,
      now: deps.now,
      sleep: deps.sleep,
      delivery: this.delivery,
      transcriptOf: (name, account) => this.transcriptOf(name, account),
      ...(deps.readyTimeoutMs ? { readyTimeoutMs: deps.readyTimeoutMs } : {}),
    });
    this.plan = { specs: this.specs, sessions: this.sessions, swapping: this.swapping, tmux: deps.tmux, logger: deps.logger, transcriptOf: (name, account) => this.transcriptOf(name, account) };
  }

  /** Runs `task` with the pool to itself: reconciling and swapping never interleave. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.lock.run(task);
  }

  /** Stops watching the session files (the daemon is stopping). */
  close(): void {
    this.sessionFiles.close();
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
    const registry = await learnFromSessionFiles({ config: this.deps.config, sessions: this.sessions, files: this.sessionFiles }, account, panes);
    const demand = this.deps.demand?.() ?? { autonomous: 0, hasTask: () => false };
    await this.letGoOfExtras(panes, registry, demand);
    // After the let-go: a session just let go no longer exists, so it is not started again.
    const required = requiredPoolSpecs(this.deps.config, new Set(panes.keys()), demand.autonomous);
    // Until a session needs work (an await, during which hooks may write), the registry read
    // above is current: a healthy pool costs one registry read, not one per session.
    let acted = false;
    for (const spec of required) {
      const pane = panes.get(spec.name);
      const record: SessionRecord | null = acted ? this.sessions.get(spec.name) : (registry.get(spec.name) ?? null);
      const movable = isOnOtherAccount(record, account);
      acted ||= !pane || pane.dead || movable;
      try {
        if (!pane) {
          await this.crashes.startMissing(spec, account, record);
        } else if (pane.dead) {
          await this.crashes.handleDeath(spec, account, record, pane);
        } else if (movable && record) {
          // Left on another account (a crash mid-swap, or a manual change): move it over.
          this.deps.logger.info({ session: spec.name, from: record.account, to: account.name }, 'session on the wrong account: relaunching');
          await this.swapping.relaunchOne(spec, this.snapshotOf(spec, pane, record, false), account, null);
        } else {
          this.crashes.endStreakIfStarted(spec.name, record);
        }
      } catch (err) {
        this.deps.logger.warn({ session: spec.name, err: describeError(err) }, 'could not reconcile session');
      }
    }
  }

  /**
   * Autonomous sessions beyond what the config's `min` and the queue want, idle and holding
   * no task, are let go (their conversations stay in their transcripts).
   */
  private async letGoOfExtras(panes: Map<string, PaneInfo>, registry: Map<string, SessionRecord>, demand: PoolDemand): Promise<void> {
    const auto = this.deps.config.pool.autonomous;
    const keep = Math.max(auto.min, Math.min(auto.max, demand.autonomous));
    const autonomous = [...this.specs.values()].filter((s) => s.kind === 'autonomous');
    for (const [i, spec] of autonomous.entries()) {
      if (i < keep || !panes.has(spec.name) || registry.get(spec.name)?.state !== 'idle' || demand.hasTask(spec.name)) continue;
      this.deps.logger.info({ session: spec.name }, 'no queued work for it: letting the session go');
      await this.deps.tmux.killSession(spec.name).catch(() => false);
      panes.delete(spec.name);
    }
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
      const record = this.sessions.get(name);
      const busyOnScreen = classifyScreen(screens.get(pane.paneId) ?? '', { now: this.deps.now() }).state === 'working';
      const working = record?.state === 'working' || record?.state === 'limited' || busyOnScreen;
      out.push(this.snapshotOf(spec, pane, record, working));
    }
    return out;
  }

  /** Stops every session of the snapshot for a swap; says how each was found (working, limited, idle). */
  stopAll(snapshot: readonly SessionSnapshot[]): Promise<Map<string, StoppedAs>> {
    return this.swapping.stopAll(snapshot);
  }

  /** Which conversations get `resumePrompt` after the stop (swap-plan.ts): the swap journals it. */
  continuationsNeeded(snapshot: readonly SessionSnapshot[], account: Account, resumePrompt: string | null, atStop: ReadonlyMap<string, StoppedAs> = new Map()): Promise<Set<string>> {
    return planContinuations(this.plan, snapshot, account, resumePrompt, atStop);
  }

  /**
   * Starts every session of the snapshot again on `account` (after `stopAll`), resuming its
   * conversation from its own cwd; those in `toContinue` get `resumePrompt`. Runs inside `exclusive`.
   */
  relaunchAll(snapshot: readonly SessionSnapshot[], account: Account, resumePrompt: string | null, toContinue: ReadonlySet<string>): Promise<RelaunchOutcome[]> {
    return relaunchPlanned(this.plan, snapshot, account, resumePrompt, toContinue);
  }

  /** Finishes a relaunch a crash interrupted (swap-plan.ts): each planned continuation delivered once. */
  finishRelaunch(snapshot: readonly SessionSnapshot[], account: Account, resumePrompt: string | null, toContinue: ReadonlySet<string>, since: Date): Promise<RelaunchOutcome[]> {
    return finishPlanned(this.plan, snapshot, account, resumePrompt, toContinue, since);
  }

  /**
   * Continues a session blocked by a limit on the account it is on (its account reset
   * first): Escape cancels Claude Code's own auto-continue, then the prompt is delivered once.
   */
  async continueSession(name: string, prompt: string): Promise<boolean> {
    const target = this.sessions.get(name)?.paneId ?? name;
    await this.deps.tmux.sendKeys(target, ['Escape']);
    // Its screen still shows the limit banner above the input line: that is ready too.
    return this.sendPrompt(name, prompt, ['idle', 'limited']);
  }

  /**
   * Delivers a prompt to a pool session once it is at its prompt (continuations, tasks):
   * true only when Claude Code confirmed it. A slash command (`/clear`, `/exit`) is answered
   * by Claude Code itself, with no hook and no transcript line to confirm it: it is typed once.
   */
  async sendPrompt(name: string, text: string, readyWhen: readonly ScreenState[] = ['idle']): Promise<boolean> {
    const record = this.sessions.get(name);
    const target = record?.paneId ?? name;
    const ready = await waitForScreen(this.deps.tmux, target, readyWhen, ['shell', 'login-needed'], { timeoutMs: 30_000, now: this.deps.now, sleep: this.deps.sleep });
    if (!ready.reached) return false;
    if (text.startsWith('/')) {
      await this.deps.tmux.sendText(target, text);
      return true;
    }
    const account = this.deps.config.accounts.find((a) => a.name === record?.account) ?? this.deps.activeAccount();
    const transcript = () => (account ? this.transcriptOf(name, account) : Promise.resolve(null));
    return (await deliverPrompt(this.delivery, { name, target, transcript }, text)).delivered;
  }

  /**
   * Hands a task's prompt to an idle session: a fresh task starts a new conversation in its
   * cwd (the session is relaunched there under a new id), a `continue` task goes into the
   * session's own conversation. Delivered only when Claude Code confirmed the prompt.
   */
  async runTask(name: string, task: { readonly prompt: string; readonly cwd: string | null; readonly mode: 'fresh' | 'continue' }): Promise<TaskDelivery> {
    const spec = this.specs.get(name);
    const account = this.deps.activeAccount();
    if (!spec || !account) return { delivered: false, sessionId: null, error: 'not a pool session, or no active account' };
    if (task.mode === 'continue') {
      const delivered = await this.sendPrompt(name, task.prompt);
      return { delivered, sessionId: this.sessions.get(name)?.sessionId ?? null, error: delivered ? null : 'the prompt was never confirmed by Claude Code' };
    }
    const launched = await this.exclusive(async () => {
      const paneId = this.sessions.get(name)?.paneId ?? null;
      return this.swapping.relaunchOne(spec, { name, paneId, sessionId: null, cwd: task.cwd ?? spec.project, account: account.name, working: false }, account, null);
    });
    if (!launched.ok || !launched.sessionId) return { delivered: false, sessionId: null, error: launched.error ?? 'the session did not start' };
    const delivered = await this.sendPrompt(name, task.prompt);
    return { delivered, sessionId: this.sessions.get(name)?.sessionId ?? launched.sessionId, error: delivered ? null : 'the prompt was never confirmed by Claude Code' };
  }

  /**
   * The transcript a session writes now: its conversation id from its running process's
   * `sessions/<pid>.json` (current even right after a /clear), else from the registry.
   */
  async transcriptOf(name: string, account: Account): Promise<string | null> {
    const record = this.sessions.get(name);
    const files = record?.paneId ? await this.sessionFiles.read(account.home) : [];
    const running = files.find((f) => f.paneId === record?.paneId && processAlive(f.pid));
    const sessionId = running?.sessionId ?? record?.sessionId ?? null;
    const cwd = running?.cwd ?? record?.cwd ?? null;
    return sessionId && cwd ? transcriptFor(account.home, cwd, sessionId) : null;
  }
}

/** Left on another account (a crash mid-swap, or a manual change) and free to be moved over. */
function isOnOtherAccount(record: SessionRecord | null, active: Account): boolean {
  return record?.account != null && record.account !== active.name && record.state !== 'working';
}
