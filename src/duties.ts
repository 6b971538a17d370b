import type { Logger } from './log.js';
import { describeError } from './errors.js';
import { oneAtATime } from './periodic.js';

export interface DutyWork {
  /** Read the pool's changed screens. */
  readonly pollScreens: () => Promise<void>;
  /** Run due jobs, leave an exhausted account, bring the pool to what the config asks. */
  readonly reconcile: () => Promise<void>;
  /** Feed and finish tasks. */
  readonly dispatch: () => Promise<void>;
}

export interface DutyOptions {
  readonly pollIntervalMs: number;
  readonly reconcileMs: number;
  /** A swap owns the pool: screens and the reconcile wait. */
  readonly swapping: () => boolean;
  readonly logger: Logger;
}

/** The daemon's periodic duties, none overlapping itself; each fault logged, never thrown. */
export interface Duties {
  /** One pass of every duty (tests drive the daemon with it). */
  tick(): Promise<void>;
  /** A dispatch pass at once (a Stop hook: a task may be done, a session free). */
  dispatchNow(): void;
  /** No new pass starts; resolves once the passes in flight have ended. */
  stop(): Promise<void>;
}

/**
 * Every poll interval the screens that changed are read and tasks are fed (an empty queue
 * costs one query); every reconcile interval (5 s) the pool is brought to what the config
 * asks (hooks and screens tell of a session's life in between; a dead one waits at most one
 * pass). Neither screens nor the reconcile run during a swap.
 */
export async function startDuties(work: DutyWork, options: DutyOptions): Promise<Duties> {
  const { logger } = options;
  const guarded = (what: string, fn: () => Promise<void>, level: 'debug' | 'warn') => async () => {
    try {
      await fn();
    } catch (err) {
      logger[level]({ err: describeError(err) }, `${what} failed`);
    }
  };
  const poll = oneAtATime(guarded('screen poll', work.pollScreens, 'debug'));
  const reconciling = oneAtATime(guarded('reconcile', work.reconcile, 'warn'));
  const dispatching = oneAtATime(guarded('dispatch', work.dispatch, 'warn'));
  let stopping = false;
  const pollScreens = () => (options.swapping() || stopping ? Promise.resolve() : poll.run());
  const reconcile = () => (options.swapping() || stopping ? Promise.resolve() : reconciling.run());
  const dispatch = () => (stopping ? Promise.resolve() : dispatching.run());

  await reconcile();
  const pollTimer = setInterval(() => {
    void pollScreens();
    void dispatch();
  }, options.pollIntervalMs);
  const reconcileTimer = setInterval(() => void reconcile(), options.reconcileMs);
  return {
    tick: async () => {
      await reconcile();
      await pollScreens();
      await dispatch();
    },
    dispatchNow: () => void dispatch(),
    stop: async () => {
      stopping = true;
      clearInterval(pollTimer);
      clearInterval(reconcileTimer);
      await Promise.all([poll.running(), reconciling.running(), dispatching.running()]);
    },
  };
}
