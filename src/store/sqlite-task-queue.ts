import type Database from 'better-sqlite3';
import { TASK_STATES, taskFromRow, type NewTask, type Task, type TaskQueue, type TaskState } from './task-queue.js';

import { date, type Row } from './row.js';

const taskOf = (r: Row): Task => taskFromRow(r, date);

/** The task queue in the host's own SQLite database: claims are transactions, so a task goes to one session only. */
export function createSqliteTaskQueue(db: Database.Database, now: () => Date): TaskQueue {
  const t = () => now().getTime();
  const one = (sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as Row | undefined;
  const exec = (sql: string, ...params: unknown[]) => db.prepare(sql).run(...params);
  const get = (id: number): Task | null => {
    const r = one('SELECT * FROM tasks WHERE id = ?', id);
    return r ? taskOf(r) : null;
  };
  const claim = db.transaction((session: string, autonomous: boolean): Task | null => {
    const r = one(
      `SELECT * FROM tasks WHERE state = 'queued' AND claimed_by IS NULL AND (target = ? OR (target IS NULL AND ?))
       ORDER BY priority DESC, id LIMIT 1`,
      session,
      autonomous ? 1 : 0,
    );
    if (!r) return null;
    exec("UPDATE tasks SET claimed_by = ?, session = ? WHERE id = ? AND state = 'queued' AND claimed_by IS NULL", session, session, r.id);
    return get(Number(r.id));
  });
  const failed = db.transaction((id: number, error: string, retry: boolean): Task | null => {
    const task = get(id);
    if (!task || (task.state !== 'running' && task.state !== 'queued')) return task;
    const again = retry && task.attempts < task.maxAttempts;
    if (again) exec("UPDATE tasks SET state = 'queued', claimed_by = NULL, error = ? WHERE id = ?", error, id);
    else exec("UPDATE tasks SET state = 'failed', claimed_by = NULL, error = ?, finished_at = ? WHERE id = ?", error, t(), id);
    return get(id);
  });
  return {
    add: (task: NewTask) => {
      const info = exec(
        'INSERT INTO tasks (prompt, cwd, target, mode, priority, timeout_ms, max_attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        task.prompt,
        task.cwd ?? null,
        task.target ?? null,
        task.mode ?? 'fresh',
        task.priority ?? 0,
        task.timeoutMs ?? null,
        task.maxAttempts ?? 2,
        t(),
      );
      const added = get(Number(info.lastInsertRowid));
      if (!added) throw new Error('a task just added cannot be read back');
      return Promise.resolve(added);
    },
    get: (id) => Promise.resolve(get(id)),
    list: (filter = {}) =>
      Promise.resolve((filter.state ? (db.prepare('SELECT * FROM tasks WHERE state = ? ORDER BY id').all(filter.state) as Row[]) : (db.prepare('SELECT * FROM tasks ORDER BY id').all() as Row[])).map(taskOf)),
    counts: () => {
      const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
      for (const r of db.prepare('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state').all() as Row[]) counts[String(r.state) as TaskState] = Number(r.n);
      return Promise.resolve(counts);
    },
    cancel: (id) => {
      exec("UPDATE tasks SET state = 'cancelled', claimed_by = NULL, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')", t(), id);
      return Promise.resolve(get(id));
    },
    retry: (id) => {
      exec("UPDATE tasks SET state = 'queued', claimed_by = NULL, attempts = 0, error = NULL, result = NULL, started_at = NULL, finished_at = NULL WHERE id = ? AND state IN ('failed', 'cancelled')", id);
      return Promise.resolve(get(id));
    },
    claim: (session, options) => Promise.resolve(claim(session, options.autonomous)),
    release: (id) => {
      exec("UPDATE tasks SET claimed_by = NULL WHERE id = ? AND state = 'queued'", id);
      return Promise.resolve();
    },
    started: (id, sessionId) => {
      exec("UPDATE tasks SET state = 'running', session_id = ?, started_at = ?, attempts = attempts + 1, error = NULL WHERE id = ? AND state = 'queued'", sessionId, t(), id);
      return Promise.resolve(get(id));
    },
    finished: (id, result) => {
      exec("UPDATE tasks SET state = 'done', claimed_by = NULL, result = ?, finished_at = ? WHERE id = ? AND state = 'running'", result, t(), id);
      return Promise.resolve();
    },
    failed: (id, error, options) => Promise.resolve(failed(id, error, options.retry)),
    onSession: (session) => {
      const r = one("SELECT * FROM tasks WHERE claimed_by = ? AND state IN ('queued', 'running') ORDER BY id LIMIT 1", session);
      return Promise.resolve(r ? taskOf(r) : null);
    },
  };
}
