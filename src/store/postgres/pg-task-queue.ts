import type pg from 'pg';
import { TASK_STATES, taskFromRow, type NewTask, type Task, type TaskQueue, type TaskState, type WaitingTask } from '../task-queue.js';
import { inTransaction } from './pg-connect.js';
import { text, texts } from '../row.js';

type Row = Record<string, unknown>;
const date = (v: unknown): Date | null => (v instanceof Date ? v : null);

const taskOf = (r: Row): Task => taskFromRow(r, date);

export interface PgTaskQueueOptions {
  /** This host's name: its claims carry it, and `mine` means it. */
  readonly host: string;
  /** How long a claim lasts without renewal. */
  readonly leaseMs: number;
  readonly now: () => Date;
  /** Whether a task's cwd exists on this host: a task is claimed only where it can run. */
  readonly cwdHere: (cwd: string) => boolean;
}

/** Candidates looked at per claim: those whose cwd is elsewhere are passed over, those another claim holds skipped. */
const CLAIM_WINDOW = 50;
/** How much of the queue's head `checkRunnable` judges: a task further back is judged as it moves up. */
const RUNNABLE_WINDOW = 500;

/**
 * The fleet's task queue in PostgreSQL. A claim locks the first fitting rows with
 * `FOR UPDATE SKIP LOCKED`, so two hosts never take one task and never wait for each other; the
 * claiming host holds a lease on it, renewed while it lives (`renewLeases`). A lease that ran
 * out (its host died) puts the task back in the queue, attempts kept, before the next claim.
 */
export function createPgTaskQueue(pool: pg.Pool, options: PgTaskQueueOptions): TaskQueue & {
  renewLeases(): Promise<void>;
  requeueExpired(): Promise<number>;
  checkRunnable(hasSession: (target: string | null) => boolean): Promise<WaitingTask[]>;
} {
  const { host } = options;
  const lease = `${String(options.leaseMs)} milliseconds`;
  const query = async (sql: string, params: unknown[] = []): Promise<Row[]> => (await pool.query(sql, params)).rows as Row[];
  const get = async (id: number): Promise<Task | null> => {
    const r = (await query('SELECT * FROM tasks WHERE id = $1', [id]))[0];
    return r ? taskOf(r) : null;
  };
  // A database that was down stopped every host renewing: until a lease's length after it
  // started again, a lease that ran out says nothing of its host.
  const requeueExpired = async (): Promise<number> => {
    const rows = await query(
      `UPDATE tasks SET
         state = CASE WHEN state = 'queued' OR attempts < max_attempts THEN 'queued' ELSE 'failed' END,
         finished_at = CASE WHEN state = 'queued' OR attempts < max_attempts THEN NULL ELSE $1::timestamptz END,
         error = 'host ' || host || ' stopped renewing its lease',
         claimed_by = NULL, host = NULL, lease_until = NULL
       WHERE claimed_by IS NOT NULL AND state IN ('queued', 'running') AND lease_until < now()
         AND now() - pg_postmaster_start_time() > $2::interval
       RETURNING id`,
      [options.now(), lease],
    );
    return rows.length;
  };
  return {
    add: async (task: NewTask) => {
      const r = (await query(
        'INSERT INTO tasks (prompt, cwd, target, mode, priority, timeout_ms, max_attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *',
        [task.prompt, task.cwd ?? null, task.target ?? null, task.mode ?? 'fresh', task.priority ?? 0, task.timeoutMs ?? null, task.maxAttempts ?? 2, options.now()],
      ))[0];
      if (!r) throw new Error('a task just added cannot be read back');
      return taskOf(r);
    },
    get,
    list: async (filter = {}) => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.state) where.push(`state = $${String(params.push(filter.state))}`);
      if (filter.mine) where.push(`host = $${String(params.push(host))}`);
      return (await query(`SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`, params)).map(taskOf);
    },
    counts: async () => {
      const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
      for (const r of await query('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state')) counts[String(r.state) as TaskState] = Number(r.n);
      return counts;
    },
    cancel: async (id) => {
      await query("UPDATE tasks SET state = 'cancelled', claimed_by = NULL, lease_until = NULL, finished_at = $2 WHERE id = $1 AND state IN ('queued', 'running')", [id, options.now()]);
      return get(id);
    },
    retry: async (id) => {
      await query("UPDATE tasks SET state = 'queued', claimed_by = NULL, host = NULL, lease_until = NULL, attempts = 0, error = NULL, result = NULL, started_at = NULL, finished_at = NULL, cannot_run_on = '{}' WHERE id = $1 AND state IN ('failed', 'cancelled')", [id]);
      return get(id);
    },
    claim: async (session, claimOptions) => {
      await requeueExpired();
      // The candidates first, unlocked: which of them this host can run is a filesystem question.
      // Window after window, so tasks whose cwd is only on other hosts never hide one that runs here.
      let runnable: number[] = [];
      for (let after: { priority: number; id: number } | null = null; ; ) {
        const candidates = await query(
          `SELECT id, cwd, priority FROM tasks WHERE state = 'queued' AND claimed_by IS NULL AND (target = $1 OR (target IS NULL AND $2))
           ${after ? 'AND (priority < $3 OR (priority = $3 AND id > $4))' : ''}
           ORDER BY priority DESC, id LIMIT ${String(CLAIM_WINDOW)}`,
          after ? [session, claimOptions.autonomous, after.priority, after.id] : [session, claimOptions.autonomous],
        );
        runnable = candidates.filter((r) => typeof r.cwd !== 'string' || options.cwdHere(r.cwd)).map((r) => Number(r.id));
        const last = candidates.at(-1);
        if (runnable.length > 0 || candidates.length < CLAIM_WINDOW || !last) break;
        after = { priority: Number(last.priority), id: Number(last.id) };
      }
      if (runnable.length === 0) return null;
      // Then one row locked, the conditions checked again under the lock; a row another claim holds is skipped, not waited for.
      return inTransaction(pool, async (client) => {
        const locked = (await client.query(
          `SELECT id FROM tasks WHERE id = ANY($1::bigint[]) AND state = 'queued' AND claimed_by IS NULL
           ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [runnable],
        )).rows as Row[];
        const id = locked[0]?.id;
        if (id === undefined) return null;
        const claimed = (await client.query(
          'UPDATE tasks SET claimed_by = $2, session = $2, host = $3, lease_until = now() + $4::interval WHERE id = $1 RETURNING *',
          [id, session, host, lease],
        )).rows as Row[];
        return claimed[0] ? taskOf(claimed[0]) : null;
      });
    },
    release: async (id) => {
      await query("UPDATE tasks SET claimed_by = NULL, host = NULL, lease_until = NULL WHERE id = $1 AND state = 'queued' AND host = $2", [id, host]);
    },
    started: async (id, sessionId) => {
      await query("UPDATE tasks SET state = 'running', session_id = $2, started_at = $3, attempts = attempts + 1, error = NULL WHERE id = $1 AND state = 'queued' AND host = $4", [id, sessionId, options.now(), host]);
      return get(id);
    },
    finished: async (id, result) => {
      await query("UPDATE tasks SET state = 'done', claimed_by = NULL, lease_until = NULL, result = $2, finished_at = $3 WHERE id = $1 AND state = 'running' AND host = $4", [id, result, options.now(), host]);
    },
    failed: async (id, error, failOptions) =>
      inTransaction(pool, async (client) => {
        const r = (await client.query('SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [id])).rows[0] as Row | undefined;
        if (!r) return null;
        const task = taskOf(r);
        if ((task.state !== 'running' && task.state !== 'queued') || task.host !== host) return task;
        const again = failOptions.retry && task.attempts < task.maxAttempts;
        const after = again
          ? await client.query("UPDATE tasks SET state = 'queued', claimed_by = NULL, host = NULL, lease_until = NULL, error = $2 WHERE id = $1 RETURNING *", [id, error])
          : await client.query("UPDATE tasks SET state = 'failed', claimed_by = NULL, lease_until = NULL, error = $2, finished_at = $3 WHERE id = $1 RETURNING *", [id, error, options.now()]);
        const row = after.rows[0] as Row | undefined;
        return row ? taskOf(row) : null;
      }),
    onSession: async (session) => {
      const r = (await query("SELECT * FROM tasks WHERE claimed_by = $1 AND host = $2 AND state IN ('queued', 'running') ORDER BY id LIMIT 1", [session, host]))[0];
      return r ? taskOf(r) : null;
    },
    renewLeases: async () => {
      await query("UPDATE tasks SET lease_until = now() + $2::interval WHERE host = $1 AND claimed_by IS NOT NULL AND state IN ('queued', 'running')", [host, lease]);
    },
    requeueExpired,
    checkRunnable: async (hasSession) => {
      const rows = await query(`SELECT id, cwd, target, cannot_run_on FROM tasks WHERE state = 'queued' AND claimed_by IS NULL ORDER BY priority DESC, id LIMIT ${String(RUNNABLE_WINDOW)}`);
      const waiting = rows.map((r): WaitingTask => ({ id: Number(r.id), cwd: text(r.cwd), target: text(r.target), cannotRunOn: texts(r.cannot_run_on) }));
      const flip = { add: [] as number[], remove: [] as number[] };
      const judged = waiting.map((task) => {
        const can = (task.cwd === null || options.cwdHere(task.cwd)) && hasSession(task.target);
        const listed = task.cannotRunOn.includes(host);
        if (can === listed) (can ? flip.remove : flip.add).push(task.id);
        return { ...task, cannotRunOn: can ? task.cannotRunOn.filter((h) => h !== host) : listed ? task.cannotRunOn : [...task.cannotRunOn, host] };
      });
      // Only the changes are written, each a single-row array update: another host's at the same moment is not lost.
      if (flip.add.length > 0) await query("UPDATE tasks SET cannot_run_on = array_append(cannot_run_on, $2) WHERE id = ANY($1::bigint[]) AND NOT ($2 = ANY(cannot_run_on))", [flip.add, host]);
      if (flip.remove.length > 0) await query('UPDATE tasks SET cannot_run_on = array_remove(cannot_run_on, $2) WHERE id = ANY($1::bigint[])', [flip.remove, host]);
      return judged;
    },
  };
}
