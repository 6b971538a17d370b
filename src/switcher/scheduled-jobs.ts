import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { describeError } from '../errors.js';
import { isAvailable } from './choose-target.js';
import { PARTIAL_SWAP_FLAG, RETRY_JOB, RETURN_JOB, type SwitchRequest } from './types.js';

export interface ScheduledJobsDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Asks the switcher (never rejects: a fault is logged by the caller). */
  readonly request: (req: SwitchRequest) => Promise<unknown>;
  /** True while a pool session is mid-answer. */
  readonly busy: () => boolean;
  /** How long a due return waits for no session to be mid-answer (`monitor.returnGraceMs`). */
  readonly returnGraceMs: number;
}

/**
 * What the daemon asks of the switcher by itself, on each reconcile pass: the scheduled
 * returns and retries whose time has come, and a swap away from an account the ledger says
 * is exhausted.
 *
 * A return is not urgent (the account in use has quota): it waits, up to its grace, for a
 * moment when no session is mid-answer, since a swap stops every session and a task cut off
 * would only be continued. While it waits no new task is started (`returnWaiting`), so the
 * pool gets quiet rather than being kept busy.
 */
export class ScheduledJobs {
  private readonly running = new Set<string>();
  /** The due return that is waiting for a quiet moment (its runAt), if any. */
  private returnWaitingSince: number | null = null;
  private readonly deps: ScheduledJobsDeps;

  constructor(deps: ScheduledJobsDeps) {
    this.deps = deps;
  }

  /** Each due job as a request. A job is deleted only once its request has run (and did not reschedule it), so a crash in between keeps it. */
  runDue(): void {
    const { store, logger } = this.deps;
    for (const job of store.dueJobs(this.deps.now())) {
      if (this.running.has(job.key)) continue;
      const req: SwitchRequest | null =
        job.key === RETURN_JOB ? { trigger: 'return', reason: 'scheduled return to the preferred account' } : job.key === RETRY_JOB ? { trigger: 'retry', account: store.getActiveAccount(), reason: 'scheduled retry' } : null;
      if (!req) continue;
      if (job.key === RETURN_JOB && this.deferReturn(job.runAt)) continue;
      this.running.add(job.key);
      void this.deps.request(req).finally(() => {
        this.running.delete(job.key);
        try {
          const current = store.listJobs().find((j) => j.key === job.key);
          if (current?.runAt.getTime() === job.runAt.getTime()) store.deleteJob(job.key);
        } catch (err) {
          logger.warn({ job: job.key, err: describeError(err) }, 'a finished job could not be cleared');
        }
      });
    }
  }

  /** A due return is waiting for the pool to be quiet: start no new work meanwhile. */
  returnWaiting(): boolean {
    if (this.returnWaitingSince === null) return false;
    const job = this.deps.store.listJobs().find((j) => j.key === RETURN_JOB);
    // Rescheduled or run meanwhile: that wait is over.
    return job !== undefined && job.runAt.getTime() === this.returnWaitingSince && job.runAt.getTime() <= this.deps.now().getTime();
  }

  /** Whether the due return waits (a session is mid-answer, and its grace has not run out). */
  private deferReturn(runAt: Date): boolean {
    const waitedMs = this.deps.now().getTime() - runAt.getTime();
    const wait = this.deps.busy() && waitedMs < this.deps.returnGraceMs;
    if (wait && this.returnWaitingSince !== runAt.getTime()) {
      this.returnWaitingSince = runAt.getTime();
      this.deps.logger.info({ graceMs: this.deps.returnGraceMs }, 'the return to the preferred account waits for no session to be mid-answer');
    } else if (!wait && this.returnWaitingSince !== null) {
      this.deps.logger.info({ waitedMs, quiet: !this.deps.busy() }, this.deps.busy() ? 'the return grace ran out with sessions still working' : 'returning at a quiet moment');
      this.returnWaitingSince = null;
    }
    return wait;
  }

  /**
   * The pool must not stay on an account the ledger says is exhausted (a limit learnt at
   * start, or one already known when a new one was reported): ask for a swap, unless one is
   * already scheduled (a retry after a cooldown, or until some account resets).
   */
  leaveExhaustedAccount(): void {
    const { store, logger } = this.deps;
    const active = store.getActiveAccount();
    if (!active || store.getFlag(PARTIAL_SWAP_FLAG).set) return;
    if (isAvailable(store.getLedgerEntry(active) ?? undefined, this.deps.now())) return;
    if (store.listJobs().some((j) => j.key === RETRY_JOB)) return;
    logger.warn({ account: active }, 'the pool is on an exhausted account: asking for a swap');
    void this.deps.request({ trigger: 'limit', account: active, reason: `${active} is exhausted (ledger)` });
  }
}
