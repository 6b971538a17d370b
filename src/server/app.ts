import type { AddressInfo } from 'node:net';
import { Hono, type Context, type Next } from 'hono';
import { serve } from '@hono/node-server';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { cappedBody, readJsonObject } from './body.js';
import type { Logger } from '../log.js';
import { describeError } from '../errors.js';
import { hostGuard } from './host-guard.js';
import { apiGuard, bearerOf, callerOf, sameSecret } from './auth.js';
import { GuessLimit, guessLimit } from './guess-limit.js';
import { mountStatusPage } from './page.js';
import { taskReporter } from '../status/status-report.js';
import { TASK_STATES, taskJson, type TaskQueue, type TaskState } from '../store/task-queue.js';
import { checkNewTask, TASK_FIELDS } from '../tasks/new-task.js';

export interface HealthReport {
  readonly healthy: boolean;
  readonly reasons: readonly string[];
  readonly activeAccount: string | null;
}

export interface HttpDeps {
  health(): Promise<HealthReport> | HealthReport;
  status(): unknown;
  requestSwitch(account: string | null): Promise<{ ok: boolean; message: string }>;
  readonly metrics?: Registry;
  readonly token: string | null;
  /** Claude Code's HTTP hooks (`POST /hooks`); absent, the route answers 404. */
  readonly hooks?: HookIntake;
  /** `server.host`: a Host header naming it is answered, besides localhost, 127.0.0.1 and [::1]. */
  readonly listenHost?: string;
  /** The task queue (`/api/tasks`); absent, those routes answer 404. */
  readonly tasks?: TaskQueue;
  /** The config's dedicated sessions: the only ones a task may name. */
  readonly dedicatedSessions?: readonly string[];
  /** The queue is the fleet's: a task may name a cwd or session of another host. */
  readonly fleetQueue?: boolean;
  /** Wrong tokens counted per address (guess-limit.ts); one of its own when absent. */
  readonly guessLimit?: GuessLimit;
  /** Where a request that failed is told (its path and error; no body, no token). */
  readonly logger?: Logger;
}

/** A fault of the database or the system under it (a pg, errno or SQLite code), not of our code. */
function isStoreFault(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string';
}

/** A hook event as the control socket carries it (`Monitor.handleControlEvent` takes it). */
export interface HookDelivery {
  readonly type: 'hook';
  readonly event: string;
  readonly pane: string | null;
  readonly payload: unknown;
  readonly at: number;
}

/** Statusline JSON as the control socket carries it. */
export interface StatuslineDelivery {
  readonly type: 'statusline';
  readonly pane: string | null;
  readonly payload: unknown;
  readonly at: number;
}

export interface HookIntake {
  /** The hook token (the state dir's `hook-token`), sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  deliver(event: HookDelivery | StatuslineDelivery): void;
}

/** Longest hook body accepted (Claude Code's hook JSON is a few KB; a prompt can be long). */
export const MAX_HOOK_BODY = 1024 * 1024;
/** Longest `POST /api/switch` body accepted: `{"account": "..."}` needs a few bytes. */
export const MAX_API_BODY = 64 * 1024;
/** Longest `POST /api/tasks` body accepted: a long prompt, JSON-escaped. */
export const MAX_TASK_BODY = 2 * 1024 * 1024;
/** The header our HTTP hooks put `$TMUX_PANE` in (settings-file.ts writes it). */
const PANE_HEADER = 'x-claude-failover-pane';

/** `POST /api/switch`: no body, `{}` or `{"account": null}` ask for the best available account. */
const switchBody = z.strictObject({ account: z.string().min(1).nullable().optional() });

/** /healthz, /api/status, POST /api/switch (token required), POST /hooks and /statusline (hook token required), /metrics. */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  app.use('*', hostGuard(deps.listenHost));
  // The hook intake's token is random and long: only server.token (bearer, login form) is worth guessing.
  app.use('*', guessLimit(deps.guessLimit ?? new GuessLimit(), { exempt: ['/hooks', '/statusline'] }));
  // With server.token set, nothing under /api is read without it; changes need it (auth.ts).
  app.use('/api/*', apiGuard(deps.token));
  const taskQueue = deps.tasks;
  mountStatusPage(app, { token: deps.token, status: () => deps.status(), ...(taskQueue ? { tasks: taskReporter(taskQueue) } : {}) });
  app.get('/healthz', async (c) => {
    const health = await deps.health();
    return health.healthy
      ? c.json({ status: 'ok', activeAccount: health.activeAccount }, 200)
      : c.json({ status: 'unhealthy', activeAccount: health.activeAccount, reasons: health.reasons }, 503);
  });
  app.get('/api/status', async (c) => c.json(await deps.status()));
  app.post(
    '/api/switch',
    tokenRequired(deps),
    cappedBody(MAX_API_BODY),
    async (c) => {
      const body = await readJsonObject(c, {});
      if (!body.ok) return c.json({ error: `${body.error}; expected {"account": "<name>"} or {}` }, 400);
      const parsed = switchBody.safeParse(body.value);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
        return c.json({ error: `the body must be {"account": "<name>"} or {}: ${why}` }, 400);
      }
      const result = await deps.requestSwitch(parsed.data.account ?? null);
      return c.json(result, result.ok ? 200 : 409);
    },
  );
  taskRoutes(app, deps);
  // Claude Code waits for these answers: each is given as soon as the event is handed over.
  const intake = (kind: 'hook' | 'statusline') => [
    async (c: Context, next: Next) => {
      if (!deps.hooks) return c.json({ error: 'not found' }, 404);
      if (!sameSecret(bearerOf(c.req.header('authorization')) ?? '', deps.hooks.token)) return c.json({ error: 'missing or wrong hook token' }, 401);
      await next();
      return undefined;
    },
    cappedBody(MAX_HOOK_BODY),
    async (c: Context) => {
      const hooks = deps.hooks;
      if (!hooks) return c.json({ error: 'not found' }, 404);
      const body = await readJsonObject(c);
      if (!body.ok) return c.json({ error: body.error }, 400);
      const payload = body.value;
      const paneHeader = c.req.header(PANE_HEADER) ?? '';
      const pane = /^%\d{1,9}$/.test(paneHeader) ? paneHeader : null;
      if (kind === 'statusline') {
        hooks.deliver({ type: 'statusline', pane, payload, at: Date.now() });
        return c.json({}, 200);
      }
      const event = payload.hook_event_name;
      if (typeof event !== 'string' || !/^[A-Za-z]{1,64}$/.test(event)) return c.json({ error: 'hook_event_name is missing or not an event name' }, 400);
      hooks.deliver({ type: 'hook', event, pane, payload, at: Date.now() });
      return c.json({}, 200);
    },
  ] as const;
  app.post('/hooks', ...intake('hook'));
  app.post('/statusline', ...intake('statusline'));
  app.get('/metrics', async (c) => {
    if (!deps.metrics) return c.text('', 404);
    return c.text(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType });
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    deps.logger?.warn({ method: c.req.method, path: c.req.path, err: describeError(err) }, 'an HTTP request failed');
    // The queue out of reach (the fleet's database down, a full disk) is worth a retry; a bug is not.
    const queueRoute = c.req.path === '/api/tasks' || c.req.path.startsWith('/api/tasks/');
    return queueRoute && isStoreFault(err)
      ? c.json({ error: 'the task queue could not be read or written (the shared database may be out of reach): try again' }, 503, { 'retry-after': '5' })
      : c.json({ error: 'internal error' }, 500);
  });
  return app;
}

/** A state change: refused without `server.token`, and without the right bearer token. */
function tokenRequired(deps: HttpDeps) {
  return async (c: Context, next: Next) => {
    if (deps.token === null) return c.json({ error: 'state-changing requests are refused: set server.token in the config' }, 403);
    // The bearer token, or a logged-in page (apiGuard has checked its origin and CSRF token).
    if (callerOf(c, deps.token).via === 'none') return c.json({ error: 'missing or wrong bearer token' }, 401);
    await next();
    return undefined;
  };
}

/**
 * The task queue over HTTP: `POST /api/tasks` (token; the fields `task add` takes, checked by
 * the same code) answers 201 with the task, `GET /api/tasks[?state=]`, `GET /api/tasks/:id`,
 * `DELETE /api/tasks/:id` (token; cancels). 400 says what is wrong, 404 an unknown id.
 */
function taskRoutes(app: Hono, deps: HttpDeps): void {
  const queueOf = (c: Context): TaskQueue | Response => deps.tasks ?? c.json({ error: 'not found' }, 404);
  const idOf = (c: Context): number | Response => {
    const id = c.req.param('id') ?? '';
    return /^\d{1,15}$/.test(id) && Number(id) > 0 ? Number(id) : c.json({ error: `a task id is a positive integer, not ${JSON.stringify(id.slice(0, 40))}` }, 400);
  };
  app.post('/api/tasks', tokenRequired(deps), cappedBody(MAX_TASK_BODY), async (c) => {
    const queue = queueOf(c);
    if (queue instanceof Response) return queue;
    const body = await readJsonObject(c);
    if (!body.ok) return c.json({ error: `${body.error}; expected {"prompt": "...", ...}` }, 400);
    const unknown = Object.keys(body.value).filter((k) => !(TASK_FIELDS as readonly string[]).includes(k));
    if (unknown.length > 0) return c.json({ error: `unknown field(s) ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}: a task has ${TASK_FIELDS.join(', ')}` }, 400);
    const checked = checkNewTask(body.value, { dedicated: deps.dedicatedSessions ?? [], naming: 'json', fleet: deps.fleetQueue === true });
    if (!checked.ok) return c.json({ error: checked.error }, 400);
    return c.json(taskJson(await queue.add(checked.task)), 201);
  });
  app.get('/api/tasks', async (c) => {
    const queue = queueOf(c);
    if (queue instanceof Response) return queue;
    const state = c.req.query('state');
    if (state !== undefined && !(TASK_STATES as readonly string[]).includes(state)) return c.json({ error: `state must be one of ${TASK_STATES.join(', ')}, not ${JSON.stringify(state.slice(0, 40))}` }, 400);
    return c.json((await queue.list(state === undefined ? {} : { state: state as TaskState })).map(taskJson));
  });
  app.get('/api/tasks/:id', async (c) => {
    const queue = queueOf(c);
    if (queue instanceof Response) return queue;
    const id = idOf(c);
    if (id instanceof Response) return id;
    const task = await queue.get(id);
    return task ? c.json(taskJson(task)) : c.json({ error: `no task ${id}` }, 404);
  });
  app.delete('/api/tasks/:id', tokenRequired(deps), async (c) => {
    const queue = queueOf(c);
    if (queue instanceof Response) return queue;
    const id = idOf(c);
    if (id instanceof Response) return id;
    const before = await queue.get(id);
    if (!before) return c.json({ error: `no task ${id}` }, 404);
    if (before.state !== 'queued' && before.state !== 'running') return c.json({ error: `task ${id} is ${before.state}: only a queued or running task can be cancelled` }, 409);
    const after = await queue.cancel(id);
    if (after?.state !== 'cancelled') return c.json({ error: `task ${id} became ${after?.state ?? 'gone'} before it could be cancelled` }, 409);
    return c.json(taskJson(after));
  });
}

export async function startHttpServer(app: Hono, listen: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => { done(); });
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
