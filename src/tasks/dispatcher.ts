import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { TmuxClient } from '../tmux/client.js';
import type { Task, TaskQueue } from '../store/task-queue.js';
import type { SessionStates } from '../sessions/session-states.js';
import type { Pool, PoolDemand } from '../pool/pool.js';
import type { Notifier } from '../notify/notifier.js';
import { allPoolSpecs, type PoolSessionSpec } from '../pool/pool-spec.js';
import { lastConversationRecord, recordsNewestFirst } from '../claude/conversation-tail.js';
import { messageText, parsePayload, transcriptRecord } from '../claude/payloads.js';
import { describeError } from '../errors.js';

export interface DispatcherDeps {
  readonly config: Config;
  readonly queue: TaskQueue;
  readonly sessions: SessionStates;
  readonly pool: Pool;
  readonly tmux: TmuxClient;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The account the pool runs on, when work may be sent to it (not exhausted, no swap under way, no partial swap). */
  readonly dispatchable: () => Account | null;
}

/** How far back a session's transcript is searched for a task's prompt (it landed, if at all, in the latest turns). */
const PROMPT_SEARCH_BYTES = 256 * 1024;

/** What the dispatcher knows of a running task beyond the queue: the session's deaths when it began. */
interface Watch {
  readonly deaths: number;
  readonly session: string;
}

/**
 * Feeds the queue to the pool: the highest-priority oldest task to each idle session that may
 * take it (idle as Claude Code says it: its Stop hook, its session file), one task per session.
 * A task runs once Claude Code confirmed its prompt, and is done when its conversation's turn
 * is answered (the last assistant message is its result). A limit mid-task is carried on by
 * the swap's continuation; a session that dies mid-task costs an attempt; a task past its
 * timeout is interrupted and failed. Nothing is sent while no account is usable.
 */
export class Dispatcher {
  private readonly deps: DispatcherDeps;
  private readonly specs: Map<string, PoolSessionSpec>;
  private readonly feeding = new Set<string>();
  private readonly watches = new Map<number, Watch>();
  private busySince: number | null = null;
  private finishedSince = { done: 0, failed: 0 };
  private demandCache: { autonomous: number; holders: Set<string> } = { autonomous: 0, holders: new Set() };

  constructor(deps: DispatcherDeps) {
    this.deps = deps;
    this.specs = new Map(allPoolSpecs(deps.config).map((s) => [s.name, s]));
  }

  /** For the pool: autonomous sessions wanted by queued and running work, and who holds a task. */
  demand(): PoolDemand {
    const { autonomous, holders } = this.demandCache;
    return { autonomous, hasTask: (name) => holders.has(name) || this.feeding.has(name) };
  }

  /**
   * At start: a task a previous run was handing over (claimed, never confirmed) is adopted
   * when its prompt is in the session's transcript, else given back to the queue. Running
   * tasks are simply watched again: none is sent twice.
   */
  async adopt(): Promise<void> {
    const { queue, logger } = this.deps;
    for (const task of await queue.list({ state: 'queued', mine: true })) {
      if (!task.session) continue;
      const landed = await this.promptLanded(task);
      if (landed) {
        await queue.started(task.id, landed);
        logger.info({ task: task.id, session: task.session }, 'a task handed over before the restart had landed: adopted');
      } else {
        await queue.release(task.id);
      }
    }
  }

  /** One pass: finish what is answered, fail what timed out or lost its session, feed idle sessions. */
  async tick(): Promise<void> {
    const { queue, logger } = this.deps;
    // The common case, an empty queue, costs one small query.
    const open = await queue.counts();
    if (open.queued + open.running === 0) {
      await this.stopCancelled(new Set());
      this.demandCache = { autonomous: 0, holders: new Set() };
      this.noteDrain(0);
      return;
    }
    const running = await queue.list({ state: 'running', mine: true });
    await this.stopCancelled(new Set(running.map((t) => t.id)));
    const holders = new Set<string>();
    for (const task of running) {
      try {
        if ((await this.watch(task)) && task.session) holders.add(task.session);
      } catch (err) {
        logger.warn({ task: task.id, err: describeError(err) }, 'could not check a running task');
      }
    }
    const counts = await queue.counts();
    this.demandCache = { autonomous: counts.queued + counts.running - [...holders].filter((h) => this.specs.get(h)?.kind === 'dedicated').length, holders };
    this.noteDrain(counts.queued + counts.running);
    const account = this.deps.dispatchable();
    if (!account || counts.queued === 0) return;
    for (const spec of this.specs.values()) {
      if (this.feeding.has(spec.name) || holders.has(spec.name)) continue;
      const record = this.deps.sessions.get(spec.name);
      if (record?.state !== 'idle' || record.account !== account.name) continue;
      const task = await queue.claim(spec.name, { autonomous: spec.kind === 'autonomous' });
      if (!task) continue;
      this.feeding.add(spec.name);
      void this.feed(spec.name, task).finally(() => this.feeding.delete(spec.name));
    }
  }

  private async feed(name: string, task: Task): Promise<void> {
    const { queue, pool, logger, notifier } = this.deps;
    logger.info({ task: task.id, session: name, mode: task.mode }, 'dispatching a task');
    try {
      const handed = await pool.runTask(name, task);
      if (handed.delivered && handed.sessionId) {
        this.watches.set(task.id, { deaths: this.deps.sessions.deaths(name), session: name });
        // It holds a task from now, not from the next tick: the pool must not let it go meanwhile.
        this.demandCache.holders.add(name);
        await queue.started(task.id, handed.sessionId);
        logger.info({ task: task.id, session: name, sessionId: handed.sessionId }, 'task running');
        return;
      }
      const after = await queue.failed(task.id, handed.error ?? 'its prompt never landed', { retry: true });
      logger.warn({ task: task.id, session: name, error: handed.error, state: after?.state }, 'a task could not be handed over');
      if (after?.state === 'failed') this.failedNotice(after);
    } catch (err) {
      await queue.failed(task.id, describeError(err), { retry: true }).catch(() => null);
      notifier.notify({ kind: 'task-failed', key: `task-fault:${String(task.id)}`, text: `Task ${String(task.id)} could not be handed to ${name}: ${describeError(err)}` });
    }
  }

  /** A task cancelled by an operator while it ran: its session's turn is interrupted (Escape). */
  private async stopCancelled(running: ReadonlySet<number>): Promise<void> {
    for (const [id, watch] of this.watches) {
      if (running.has(id)) continue;
      this.watches.delete(id);
      if ((await this.deps.queue.get(id))?.state !== 'cancelled') continue;
      const pane = this.deps.sessions.get(watch.session)?.paneId;
      if (pane) await this.deps.tmux.sendKeys(pane, ['Escape']).catch(() => undefined);
      this.deps.logger.info({ task: id, session: watch.session }, 'task cancelled while running: interrupted');
    }
  }

  /** A running task: answered (done), past its timeout (failed), or its session died (an attempt lost). True while it still runs. */
  private async watch(task: Task): Promise<boolean> {
    const { queue, sessions, logger } = this.deps;
    const name = task.session;
    if (!name) return true;
    const watch = this.watches.get(task.id) ?? { deaths: sessions.deaths(name), session: name };
    this.watches.set(task.id, watch);
    if (sessions.deaths(name) !== watch.deaths) {
      this.watches.delete(task.id);
      const after = await queue.failed(task.id, `session ${name} died during the task`, { retry: true });
      logger.warn({ task: task.id, session: name, state: after?.state }, 'the session died mid-task');
      if (after?.state === 'failed') this.failedNotice(after);
      return false;
    }
    const result = await this.answer(task);
    if (result !== null) {
      this.watches.delete(task.id);
      await queue.finished(task.id, result);
      this.finishedSince.done++;
      logger.info({ task: task.id, session: name }, 'task done');
      return false;
    }
    if (task.timeoutMs !== null && task.startedAt && this.deps.now().getTime() - task.startedAt.getTime() > task.timeoutMs) {
      this.watches.delete(task.id);
      const pane = sessions.get(name)?.paneId;
      if (pane) await this.deps.tmux.sendKeys(pane, ['Escape']).catch(() => undefined);
      const after = await queue.failed(task.id, `timed out after ${String(Math.round(task.timeoutMs / 1000))} s`, { retry: false });
      logger.warn({ task: task.id, session: name }, 'task timed out: interrupted');
      if (after) this.failedNotice(after);
      return false;
    }
    return true;
  }

  /** The task's answer once its conversation's turn is over: the last assistant message after it began. */
  private async answer(task: Task): Promise<string | null> {
    const name = task.session;
    const record = name ? this.deps.sessions.get(name) : null;
    if (!name || record?.state !== 'idle' || record.sessionId !== task.sessionId) return null;
    // Relaunched (a swap) since the task began and not yet given a prompt: the continuation is
    // still to come, and what the transcript ends on is the interrupted turn, not the answer.
    const launchedHere = this.deps.sessions.launchNumber(name) > 0;
    if (launchedHere && !this.deps.sessions.hasWorkedSinceLaunch(name)) return null;
    const account = this.deps.config.accounts.find((a) => a.name === record.account);
    const path = account ? await this.deps.pool.transcriptOf(name, account) : null;
    if (!path) return null;
    const { end, record: last } = await lastConversationRecord(path);
    if (end !== 'answered' || !last) return null;
    const at = typeof last.timestamp === 'string' ? Date.parse(last.timestamp) : NaN;
    if (task.startedAt && Number.isFinite(at) && at < task.startedAt.getTime() - 1000) return null;
    const parsed = parsePayload(transcriptRecord, last);
    return parsed ? messageText(parsed) : '';
  }

  /** Whether a task's prompt reached the session's conversation: its id when it did. */
  private async promptLanded(task: Task): Promise<string | null> {
    const name = task.session;
    const record = name ? this.deps.sessions.get(name) : null;
    const account = this.deps.config.accounts.find((a) => a.name === record?.account);
    if (!name || !account) return null;
    const path = await this.deps.pool.transcriptOf(name, account);
    if (!path) return null;
    for await (const line of recordsNewestFirst(path, { maxBytes: PROMPT_SEARCH_BYTES })) {
      const parsed = parsePayload(transcriptRecord, line);
      if (parsed?.type === 'user' && messageText(parsed).includes(task.prompt.trim())) return parsed.sessionId;
    }
    return null;
  }

  private failedNotice(task: Task): void {
    this.finishedSince.failed++;
    this.deps.notifier.notify({
      kind: 'task-failed',
      key: `task-failed:${String(task.id)}:${String(task.attempts)}`,
      text: `Task ${String(task.id)} failed after ${String(task.attempts)} attempt(s): ${task.error ?? 'no reason recorded'}.\n${task.prompt.slice(0, 200)}`,
    });
  }

  /** One message when the queue has drained: how many tasks, how they ended, how long it took. */
  private noteDrain(open: number): void {
    const now = this.deps.now().getTime();
    if (open > 0) {
      this.busySince ??= now;
      return;
    }
    if (this.busySince === null) return;
    const minutes = Math.max(1, Math.round((now - this.busySince) / 60_000));
    const { done, failed } = this.finishedSince;
    this.busySince = null;
    this.finishedSince = { done: 0, failed: 0 };
    if (done + failed === 0) return;
    this.deps.notifier.notify({ kind: 'queue-drained', text: `The task queue has drained: ${String(done)} done, ${String(failed)} failed, in about ${String(minutes)} min.` });
  }
}
