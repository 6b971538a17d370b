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
}

/**
 * What the daemon asks of the switcher by itself, on each reconcile pass: the scheduled
 * returns and retries whose time has come, and a swap away from an account the ledger says
 * is exhausted.
 */
export class ScheduledJobs {
  private readonly running = new Set<string>();
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
