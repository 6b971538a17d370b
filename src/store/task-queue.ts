import { text, texts, type Row } from './row.js';

/** A task's life: queued → running (Claude Code confirmed its prompt) → done | failed; cancelled by an operator. */
export type TaskState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const TASK_STATES: readonly TaskState[] = ['queued', 'running', 'done', 'failed', 'cancelled'];

/** How a task meets its session: a new conversation (the default) or the session's own. */
export type TaskMode = 'fresh' | 'continue';

export interface Task {
  readonly id: number;
  readonly prompt: string;
  /** The project dir it runs in (null: the session's own). */
  readonly cwd: string | null;
  /** The dedicated session it must run on (null: any autonomous session). */
  readonly target: string | null;
  readonly mode: TaskMode;
  /** Higher first; equal priorities in the order they were queued. */
  readonly priority: number;
  readonly timeoutMs: number | null;
  /** How many attempts in all (a session dying mid-task costs one). */
  readonly maxAttempts: number;
  readonly state: TaskState;
  /** The session running it (or that ran it last). */
  readonly session: string | null;
  /** The fleet host whose session has it claimed, running or ran it (a fleet's queue only: absent on a single host). */
  readonly host?: string | null;
  /**
   * The fleet hosts that found, as they last looked, that they cannot run it while it waits:
   * its cwd is not there, or its session is not one of theirs (a fleet's queue only).
   */
  readonly cannotRunOn?: readonly string[];
  /** The conversation it ran in. */
  readonly sessionId: string | null;
  readonly attempts: number;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** The last assistant message of its conversation when it was done. */
  readonly result: string | null;
  /** Why its last attempt failed. */
  readonly error: string | null;
}

export interface NewTask {
  readonly prompt: string;
  readonly cwd?: string | null;
  readonly target?: string | null;
  readonly mode?: TaskMode;
  readonly priority?: number;
  readonly timeoutMs?: number | null;
  readonly maxAttempts?: number;
}

/** A queued task as a fleet host judges whether it can run it, with the hosts that found they cannot (as each last looked). */
export interface WaitingTask {
  readonly id: number;
  readonly cwd: string | null;
  readonly target: string | null;
  readonly cannotRunOn: readonly string[];
}

/** The JSON shape of a task (`task list --json`, `GET /api/tasks`): a public contract. Dates are ISO strings. */
export type TaskJson = Omit<Task, 'createdAt' | 'startedAt' | 'finishedAt'> & {
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
};

export function taskJson(task: Task): TaskJson {
  return { ...task, createdAt: task.createdAt.toISOString(), startedAt: task.startedAt?.toISOString() ?? null, finishedAt: task.finishedAt?.toISOString() ?? null };
}

/**
 * Where tasks are kept. Asynchronous, so a queue shared by several hosts (PostgreSQL) can
 * take the embedded one's place without the dispatcher changing. A claim is atomic: two
 * sessions (or hosts) never get the same task.
 */
export interface TaskQueue {
  add(task: NewTask): Promise<Task>;
  get(id: number): Promise<Task | null>;
  /** `mine`: only the tasks this host claimed (a fleet's queue holds every host's). */
  list(filter?: { readonly state?: TaskState; readonly mine?: boolean }): Promise<Task[]>;
  counts(): Promise<Record<TaskState, number>>;
  /** An operator's cancel of a queued or running task; null when there is no such task. */
  cancel(id: number): Promise<Task | null>;
  /** A failed or cancelled task queued again, attempts reset. */
  retry(id: number): Promise<Task | null>;
  /**
   * The highest-priority, oldest queued task `session` may take (its own, or any untargeted
   * one when it is autonomous), claimed for it: no other claim can take it. Still `queued`
   * in what it reports until `started`.
   */
  claim(session: string, options: { readonly autonomous: boolean }): Promise<Task | null>;
  /** A claim whose prompt never landed: back to the queue, untouched. */
  release(id: number): Promise<void>;
  /** Claude Code confirmed the task's prompt: it runs, in conversation `sessionId`, attempt n+1. */
  started(id: number, sessionId: string): Promise<Task | null>;
  /** Done, with its result. */
  finished(id: number, result: string): Promise<void>;
  /** An attempt failed: queued again while attempts remain (`retry`), else failed. */
  failed(id: number, error: string, options: { readonly retry: boolean }): Promise<Task | null>;
  /** The task running (or claimed) on `session`, if any. */
  onSession(session: string): Promise<Task | null>;
}

/**
 * A task row of either queue (its SQLite table, the fleet's PostgreSQL one): `when` reads a
 * time column as that database returns it (epoch ms, a Date). `host` exists in the fleet's only.
 */
export function taskFromRow(r: Row, when: (v: unknown) => Date | null): Task {
  return {
    id: Number(r.id),
    prompt: String(r.prompt),
    cwd: text(r.cwd),
    target: text(r.target),
    mode: r.mode === 'continue' ? 'continue' : 'fresh',
    priority: Number(r.priority ?? 0),
    timeoutMs: r.timeout_ms === null || r.timeout_ms === undefined ? null : Number(r.timeout_ms),
    maxAttempts: Number(r.max_attempts ?? 1),
    state: String(r.state) as TaskState,
    session: text(r.session),
    ...('host' in r ? { host: text(r.host) } : {}),
    ...('cannot_run_on' in r ? { cannotRunOn: texts(r.cannot_run_on) } : {}),
    sessionId: text(r.session_id),
    attempts: Number(r.attempts ?? 0),
    createdAt: when(r.created_at) ?? new Date(0),
    startedAt: when(r.started_at),
    finishedAt: when(r.finished_at),
    result: text(r.result),
    error: text(r.error),
  };
}
