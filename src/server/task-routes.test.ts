import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { TaskJson } from '../store/task-queue.js';
import { createHttpApp, MAX_TASK_BODY, startHttpServer, type HttpDeps } from './app.js';

// The task routes on a real queue: a SQLite store in a temp dir.
const TOKEN = 'a-token-of-sixteen-chars';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await makeTempDir('cf-task-routes');
  store = openStore(`${dir}/state`);
});
afterEach(async () => {
  store.close();
  await removeTempDir(dir);
});

function app(overrides: Partial<HttpDeps> = {}) {
  return createHttpApp({
    health: () => ({ healthy: true, reasons: [], activeAccount: 'A' }),
    status: () => ({}),
    requestSwitch: () => Promise.resolve({ ok: true, message: '' }),
    token: TOKEN,
    tasks: store.tasks,
    dedicatedSessions: ['web'],
    ...overrides,
  });
}

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (a: ReturnType<typeof app>, body: unknown, headers: Record<string, string> = auth) =>
  a.request('/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
/** A GET with its Host header as given (fetch would put its own). */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host }, timeout: 20_000 }, (res) => {
      res.resume();
      res.on('end', () => { resolve(res.statusCode ?? 0); });
    });
    req.on('timeout', () => { req.destroy(new Error('no answer within 20 s')); });
    req.on('error', reject);
    req.end();
  });
}

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('POST /api/tasks', () => {
  it('queues a task and answers 201 with the task JSON', async () => {
    const res = await post(app(), { prompt: 'Fix the build', cwd: dir, session: 'web', priority: 4, timeout: '10m', retries: 2, mode: 'continue' });
    expect(res.status).toBe(201);
    const task = (await res.json()) as TaskJson;
    expect(task).toEqual({
      id: 1,
      state: 'queued',
      session: null,
      sessionId: null,
      prompt: 'Fix the build',
      cwd: dir,
      target: 'web',
      mode: 'continue',
      priority: 4,
      timeoutMs: 600_000,
      maxAttempts: 3,
      attempts: 0,
      createdAt: expect.stringMatching(ISO) as string,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    });
    expect((await store.tasks.get(1))?.prompt).toBe('Fix the build');
  });

  it('takes the timeout in milliseconds, and a prompt alone', async () => {
    expect(await (await post(app(), { prompt: 'p', timeout: 30_000 })).json()).toMatchObject({ timeoutMs: 30_000, mode: 'fresh', target: null, cwd: null, priority: 0 });
  });

  it('needs the token, and a configured one', async () => {
    expect((await post(app(), { prompt: 'p' }, {})).status).toBe(401);
    expect((await post(app(), { prompt: 'p' }, { authorization: 'Bearer wrong-token-of-sixteen' })).status).toBe(401);
    const refused = await post(app({ token: null }), { prompt: 'p' });
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toContain('server.token');
    expect(await store.tasks.list()).toEqual([]);
  });

  it.each([
    ['{"prompt": "p"', 'not JSON'],
    ['', 'not JSON'],
    ['["p"]', 'a JSON object'],
    [{ prompt: '' }, 'prompt is empty'],
    [{}, 'prompt is missing'],
    [{ prompt: 'p', cwd: 'relative/dir' }, 'cwd must be an absolute path'],
    [{ prompt: 'p', cwd: '/no/such/dir/anywhere' }, 'cwd /no/such/dir/anywhere does not exist'],
    [{ prompt: 'p', session: 'db' }, 'session "db" is not a dedicated session: the config\'s dedicated sessions are web'],
    [{ prompt: 'p', priority: 1.5 }, 'priority must be an integer'],
    [{ prompt: 'p', timeout: 'soon' }, 'timeout must be milliseconds or a duration'],
    [{ prompt: 'p', retries: -1 }, 'retries must be an integer from 0'],
    [{ prompt: 'p', mode: 'again' }, 'mode must be "fresh" or "continue"'],
    [{ prompt: 'p', promt: 'p' }, 'unknown field(s) "promt"'],
  ])('answers 400 to %j, saying why, and queues nothing', async (body, says) => {
    const res = await post(app(), body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toContain(says);
    expect(await store.tasks.list()).toEqual([]);
  });

  it('answers 413 to a body over the cap', async () => {
    const res = await post(app(), { prompt: 'x'.repeat(MAX_TASK_BODY) });
    expect(res.status).toBe(413);
    expect(await store.tasks.list()).toEqual([]);
  });

  it('answers 404 when the daemon has no queue to give', async () => {
    expect((await post(app({ tasks: undefined }), { prompt: 'p' })).status).toBe(404);
    expect((await app({ tasks: undefined }).request('/api/tasks', { headers: auth })).status).toBe(404);
  });

  it('answers 503 with Retry-After, saying the queue is out of reach, when the queue fails (the fleet\'s database down); other routes answer on', async () => {
    const down = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const a = app({ tasks: { ...store.tasks, add: down, list: down, get: down } });
    for (const res of [await post(a, { prompt: 'p' }), await a.request('/api/tasks', { headers: auth }), await a.request('/api/tasks/3', { headers: auth })]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await errorOf(res)).toBe('the task queue could not be read or written (the shared database may be out of reach): try again');
    }
    expect((await a.request('/healthz')).status).toBe(200);
    // A fault of our own (no database code) is a 500, not "try again".
    const bug = app({ tasks: { ...store.tasks, list: () => Promise.reject(new TypeError('cannot read properties of undefined')) } });
    const res = await bug.request('/api/tasks', { headers: auth });
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toBe('internal error');
  });
});

describe('GET /api/tasks, GET and DELETE /api/tasks/:id', () => {
  it('lists tasks, by state too, and gives one by id; an unknown id is 404, a malformed one 400, a wrong state 400', async () => {
    const first = await store.tasks.add({ prompt: 'one' });
    await store.tasks.add({ prompt: 'two' });
    await store.tasks.cancel(first.id);
    const a = app();
    const get = (path: string) => a.request(path, { headers: auth }); // reads need the token too where one is set
    const all = (await (await get('/api/tasks')).json()) as TaskJson[];
    expect(all.map((t) => [t.id, t.state, t.prompt])).toEqual([[1, 'cancelled', 'one'], [2, 'queued', 'two']]);
    expect(((await (await get('/api/tasks?state=queued')).json()) as TaskJson[]).map((t) => t.id)).toEqual([2]);
    const badState = await get('/api/tasks?state=finished');
    expect(badState.status).toBe(400);
    expect(await errorOf(badState)).toContain('state must be one of queued, running, done, failed, cancelled');
    expect(await (await get('/api/tasks/2')).json()).toMatchObject({ id: 2, state: 'queued', prompt: 'two' });
    const unknown = await get('/api/tasks/99');
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toBe('no task 99');
    expect((await get('/api/tasks/two')).status).toBe(400);
  });

  it('cancels with the token: 200 with the task, 404 for an unknown id, 409 for a finished one', async () => {
    const task = await store.tasks.add({ prompt: 'one' });
    const a = app();
    const del = (id: string, headers: Record<string, string> = auth) => a.request(`/api/tasks/${id}`, { method: 'DELETE', headers });
    expect((await del(String(task.id), {})).status).toBe(401);
    expect((await store.tasks.get(task.id))?.state).toBe('queued');
    const res = await del(String(task.id));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: task.id, state: 'cancelled', finishedAt: expect.stringMatching(ISO) as string });
    const again = await del(String(task.id));
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toBe('task 1 is cancelled: only a queued or running task can be cancelled');
    expect((await del('42')).status).toBe(404);
    expect((await del('0')).status).toBe(400);
  });

  it('serves the queue over a real socket on 127.0.0.1', async () => {
    const server = await startHttpServer(app(), { host: '127.0.0.1', port: 0 });
    try {
      const made = await fetch(`${server.url}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ prompt: 'over the wire' }) });
      expect(made.status).toBe(201);
      const { id } = (await made.json()) as TaskJson;
      expect(await (await fetch(`${server.url}/api/tasks/${id}`, { headers: auth })).json()).toMatchObject({ id, prompt: 'over the wire', state: 'queued' });
      // A page pointing its own name at 127.0.0.1 is refused before any route.
      expect(await statusWithHost(`${server.url}/api/tasks`, 'evil.example')).toBe(421);
    } finally {
      await server.close();
    }
  });
});
