import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../notify/notifier.js';
import { SILENT_AFTER_MS, type SharedStore } from '../store/shared-store.js';
import { allPoolSpecs } from '../pool/pool-spec.js';
import type { WaitingTask } from '../store/task-queue.js';
import { describeError } from '../errors.js';

/** How often a host judges the head of the queue: a directory made or a host joined shows within this. */
export const RUNNABLE_CHECK_MS = 10_000;

/**
 * Whether this host has a session that may take a task for `target`, as a claim decides it:
 * a session of that name (dedicated, or an autonomous slot), or for none an autonomous one.
 */
export function sessionsOf(config: Config): (target: string | null) => boolean {
  const names = new Set(allPoolSpecs(config).map((s) => s.name));
  return (target) => (target === null ? config.pool.autonomous.max > 0 : names.has(target));
}

export interface UnrunnableTasksDeps {
  readonly shared: SharedStore;
  readonly host: string;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly hasSession: (target: string | null) => boolean;
  /** How often the queue is judged (RUNNABLE_CHECK_MS). */
  readonly everyMs?: number;
  /** How long in touch with the database before anything is told (SILENT_AFTER_MS). */
  readonly graceMs?: number;
}

/** What a task needs of a host, in words. */
function needs(task: WaitingTask): string {
  const session = task.target === null ? 'an autonomous session' : `the dedicated session ${task.target}`;
  return task.cwd === null ? session : `the directory ${task.cwd} and ${session}`;
}

/**
 * A fleet's task is queued anywhere and claimed only by a host that can run it (its cwd is a
 * directory there, its session is one of that host's). One that no host can run would wait
 * forever without a word: each host records what it cannot run, and once every live host has
 * said so of a task, the fleet is told once (by the first host to claim the notification),
 * with the cancel that drops it. The task stays queued: a host that later can, runs it.
 *
 * Nothing is told until this host has been in touch with the database for SILENT_AFTER_MS
 * without a break: after an outage, or when every host restarts together, the others' last
 * reports are old for a while, and a host judging alone then would speak for hosts that can
 * run the task.
 */
export class UnrunnableTasks {
  private readonly deps: UnrunnableTasksDeps;
  private lastCheck = Number.NEGATIVE_INFINITY;
  private inTouchSince: number | null = null;
  private readonly told = new Set<number>();

  constructor(deps: UnrunnableTasksDeps) {
    this.deps = deps;
  }

  /** The database was out of reach: the wait before anything is told starts again. */
  lostTouch(): void {
    this.inTouchSince = null;
  }

  /**
   * Judges the head of the queue, at most once per RUNNABLE_CHECK_MS, after a pass that reached
   * the database. A fault here is logged: it is no lost database, and the pass stands.
   */
  async check(): Promise<void> {
    const now = this.deps.now().getTime();
    this.inTouchSince ??= now;
    if (now - this.lastCheck < (this.deps.everyMs ?? RUNNABLE_CHECK_MS)) return;
    this.lastCheck = now;
    try {
      await this.judge(now - this.inTouchSince >= (this.deps.graceMs ?? SILENT_AFTER_MS));
    } catch (err) {
      this.deps.logger.warn({ err: describeError(err) }, 'could not judge which queued tasks this host can run');
    }
  }

  private async judge(mayTell: boolean): Promise<void> {
    const { shared, host, logger, notifier } = this.deps;
    const { waiting, live } = await shared.checkRunnable(this.deps.hasSession);
    const hosts = [...new Set([...live, host])].sort();
    const stuck = waiting.filter((t) => hosts.every((h) => t.cannotRunOn.includes(h)));
    const stuckIds = new Set(stuck.map((t) => t.id));
    for (const id of this.told) if (!stuckIds.has(id)) this.told.delete(id);
    if (!mayTell) return;
    for (const task of stuck) {
      if (this.told.has(task.id)) continue;
      this.told.add(task.id);
      const hostList = hosts.join(', ');
      logger.warn({ task: task.id, cwd: task.cwd, target: task.target, hosts: hostList }, 'no live host of the fleet can run a queued task');
      const key = `task-unrunnable:${String(task.id)}`;
      const mine = await shared.claimNotification(key, host).catch((err: unknown) => {
        logger.debug({ task: task.id, err: describeError(err) }, 'the notification could not be claimed for the fleet: sending it from here');
        return true;
      });
      if (!mine) continue;
      notifier.notify({
        kind: 'task-unrunnable',
        key,
        text: `Task ${String(task.id)} cannot run on any live host of the fleet (${hostList}): none has ${needs(task)}. It waits in the queue until a host does; \`claude-failover task cancel ${String(task.id)}\` drops it.`,
        details: { task: task.id, cwd: task.cwd, target: task.target, hosts },
      });
    }
  }
}
