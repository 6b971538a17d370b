import type { Account } from '../config/types.js';
import type { Logger } from '../log.js';
import type { SessionRecord } from '../store/store.js';
import type { PaneInfo, TmuxClient } from '../tmux/client.js';
import type { SessionStates } from '../sessions/session-states.js';
import { extractResumeHint } from '../claude/screen-state.js';
import type { PoolSessionSpec } from './pool-spec.js';
import type { Launcher } from './launcher.js';
import { deadStatusIn, lastWords } from './session-waits.js';
import { isQuickDeath, QUICK_DEATH_MS, retryDelayMs } from './backoff.js';

const NO_CONVERSATION = /No conversation found with session ID/;

/** A session whose launches keep dying: kept until one launch lives past `quickDeathMs`. */
interface FailureStreak {
  /** Failed launches in a row. */
  readonly count: number;
  readonly nextAttemptAt: number;
  /** Its last words: shown in status (lastError) for as long as the streak lasts. */
  readonly reason: string;
  /** Which launch's death this entry judged, so one death counts once. */
  readonly launch: number;
  notified: boolean;
}

export interface CrashRecoveryDeps {
  readonly tmux: TmuxClient;
  readonly sessions: SessionStates;
  readonly launcher: Launcher;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Called once per failure streak of a session that dies right after its launch. */
  readonly onSessionFailing: (name: string, reason: string) => void;
  readonly quickDeathMs?: number;
}

/**
 * Brings back a pool session that is missing or whose pane died: at once with its
 * conversation when it had lived, or after a growing backoff (5 s doubling to 10 min) while
 * its launches keep dying at start-up, with one notice per streak and its last words in status.
 */
export class CrashRecovery {
  private readonly streaks = new Map<string, FailureStreak>();
  private readonly deps: CrashRecoveryDeps;

  constructor(deps: CrashRecoveryDeps) {
    this.deps = deps;
  }

  /** A launch of this session now would retry a failing one (its last words stay in status). */
  failing(name: string): boolean {
    return this.streaks.has(name);
  }

  private get quickDeathMs(): number {
    return this.deps.quickDeathMs ?? QUICK_DEATH_MS;
  }

  /** No tmux session at all: start it (unless its backoff has not passed). */
  async startMissing(spec: PoolSessionSpec, account: Account, record: SessionRecord | null): Promise<void> {
    const streak = this.streaks.get(spec.name);
    if (streak && streak.nextAttemptAt > this.deps.now().getTime()) return;
    // It ran before and its tmux session is gone (killed from outside): a death too.
    if (record?.paneId && !streak) this.deps.sessions.exited(spec.name);
    const sessionId = streak && NO_CONVERSATION.test(streak.reason) ? null : (record?.sessionId ?? null);
    await this.launch(spec, account, null, sessionId, record);
  }

  /** A live session whose launch has lived past the threshold ends its failure streak. */
  endStreakIfStarted(name: string, record: SessionRecord | null): void {
    const streak = this.streaks.get(name);
    if (!streak || streak.launch === this.deps.sessions.launchNumber(name)) return; // its last failed launch is still the current one
    if (isQuickDeath(record?.launchedAt?.getTime() ?? 0, this.deps.now().getTime(), this.quickDeathMs)) return;
    this.streaks.delete(name);
    this.deps.sessions.recovered(name, streak.reason);
    this.deps.logger.info({ session: name, failures: streak.count }, 'session started after failed launches');
  }

  /**
   * A dead pane. Its death is judged once, when first seen: quick (within `quickDeathMs` of
   * its launch) starts or extends a failure streak, and the pane (its last words) stays until
   * the backoff has passed; otherwise it is restarted at once with its conversation.
   */
  async handleDeath(spec: PoolSessionSpec, account: Account, record: SessionRecord | null, pane: PaneInfo): Promise<void> {
    const now = this.deps.now().getTime();
    const streak = this.streaks.get(spec.name);
    if (streak && streak.launch === this.deps.sessions.launchNumber(spec.name)) {
      if (streak.nextAttemptAt > now) return;
      this.deps.logger.info({ session: spec.name, sessionId: record?.sessionId ?? null, failures: streak.count }, 'retrying a failed session');
      await this.launch(spec, account, pane.paneId, NO_CONVERSATION.test(streak.reason) ? null : (record?.sessionId ?? null), record);
      return;
    }
    this.deps.sessions.exited(spec.name);
    const capture = await this.deps.tmux.capturePane(pane.paneId, 60, { history: true }).catch(() => '');
    const words = lastWords(capture);
    const sessionId = record?.sessionId ?? extractResumeHint(capture);
    if (isQuickDeath(record?.launchedAt?.getTime() ?? 0, now, this.quickDeathMs)) {
      const count = (streak?.count ?? 0) + 1;
      const delay = retryDelayMs(count);
      // tmux marks a pane dead when its terminal closes, a moment before it has the exit status.
      const status = pane.deadStatus ?? deadStatusIn(capture);
      const reason = words || `claude exited${status === null ? '' : ` with status ${String(status)}`} right after its launch, printing nothing`;
      const next: FailureStreak = { count, nextAttemptAt: now + delay, reason, launch: this.deps.sessions.launchNumber(spec.name), notified: streak?.notified ?? false };
      this.streaks.set(spec.name, next);
      this.deps.sessions.died(spec.name, reason, sessionId);
      this.deps.logger.warn({ session: spec.name, failures: count, retryInMs: delay, reason }, 'session died right after its launch');
      if (!next.notified) {
        next.notified = true;
        this.deps.onSessionFailing(spec.name, reason);
      }
      return;
    }
    this.streaks.delete(spec.name);
    this.deps.logger.info({ session: spec.name, sessionId }, 'session exited: restarting it with its conversation');
    const resumeId = NO_CONVERSATION.test(words) ? null : sessionId;
    if (resumeId === null && sessionId) this.deps.logger.warn({ session: spec.name, sessionId }, 'its conversation cannot be resumed here: starting a new one (the transcript is kept)');
    await this.launch(spec, account, pane.paneId, resumeId, record);
  }

  private async launch(spec: PoolSessionSpec, account: Account, paneId: string | null, sessionId: string | null, record: SessionRecord | null): Promise<void> {
    await this.deps.launcher.launch({ name: spec.name, project: spec.project, paneId, account, sessionId, cwd: record?.cwd ?? spec.project, retrying: this.failing(spec.name) });
  }
}
