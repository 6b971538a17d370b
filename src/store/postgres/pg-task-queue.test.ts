import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgSharedStore } from './pg-shared-store.js';
import type { SharedStore } from '../shared-store.js';
import type { TaskQueue } from '../task-queue.js';
import { freshDatabase } from '../../../test/helpers/test-database.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the fleet\'s task queue in PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  const stores: SharedStore[] = [];
  const hostStore = async (host: string, leaseMs = 30_000): Promise<SharedStore> => {
    const store = openPgSharedStore({ config: { url: db.url, tls: null, poolSize: 10, connectTimeoutMs: 5000 }, host, leaseMs });
    await store.prepare();
    stores.push(store);
    return store;
  };
  const clear = async (queue: TaskQueue) => {
    for (const t of await queue.list()) if (t.state === 'queued' || t.state === 'running') await queue.cancel(t.id);
  };

  beforeAll(async () => {
    db = await freshDatabase('pg_task_queue');
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await db.drop();
  });

  it('gives each task to one session of one host when two hosts claim at once (FOR UPDATE SKIP LOCKED)', async () => {
    const [h1, h2] = [await hostStore('h1'), await hostStore('h2')];
    await clear(h1.tasks);
    const ids = new Set<number>();
    for (let i = 0; i < 24; i++) ids.add((await h1.tasks.add({ prompt: `task ${String(i)}` })).id);
    const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? h1 : h2).tasks.claim(`auto-${String(i)}`, { autonomous: true })));
    const claimed = claims.flatMap((t) => (t ? [t.id] : []));
    expect(claimed.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(claimed).size).toBe(24);
    expect(claims.flatMap((t) => (t ? [t.host] : [])).every((h) => h === 'h1' || h === 'h2')).toBe(true);
    // Each host lists as its own only what it claimed.
    const mine = await h1.tasks.list({ state: 'queued', mine: true });
    expect(mine.every((t) => t.host === 'h1')).toBe(true);
    expect(mine.length + (await h2.tasks.list({ state: 'queued', mine: true })).length).toBe(24);
  });

  it('puts a task back in the queue when its host stops renewing the lease, and the late host cannot finish it', async () => {
    const [dying, other] = [await hostStore('dying', 300), await hostStore('other', 300)];
    await clear(dying.tasks);
    const task = await dying.tasks.add({ prompt: 'long work', maxAttempts: 2 });
    expect((await dying.tasks.claim('auto-1', { autonomous: true }))?.id).toBe(task.id);
    expect((await dying.tasks.started(task.id, 'conv-1'))?.attempts).toBe(1);
    // Renewed, it stays claimed past the lease.
    await sleep(200);
    await dying.renewLeases('dying');
    await sleep(200);
    expect(await other.tasks.claim('auto-1', { autonomous: true })).toBeNull();
    // Not renewed: gone back to the queue, and the other host runs it (attempt 2).
    await sleep(400);
    const again = await other.tasks.claim('auto-1', { autonomous: true });
    expect(again).toMatchObject({ id: task.id, host: 'other', state: 'queued', attempts: 1 });
    expect(again?.error).toContain('dying stopped renewing its lease');
    await other.tasks.started(task.id, 'conv-2');
    await dying.tasks.finished(task.id, 'late answer');
    expect(await dying.tasks.failed(task.id, 'late failure', { retry: true })).toMatchObject({ state: 'running', host: 'other' });
    await other.tasks.finished(task.id, 'the answer');
    expect(await other.tasks.get(task.id)).toMatchObject({ state: 'done', result: 'the answer', attempts: 2, host: 'other' });
  });

  it('runs a task whose cwd exists only elsewhere only there, and a task naming a session only on that session', async () => {
    const here = await hostStore('here');
    await clear(here.tasks);
    const elsewhere = await here.tasks.add({ prompt: 'needs a dir this host lacks', cwd: '/nonexistent/cf-fleet-test-dir' });
    const local = await here.tasks.add({ prompt: 'runs anywhere', cwd: '/tmp' });
    const named = await here.tasks.add({ prompt: 'for web', target: 'web' });
    expect((await here.tasks.claim('auto-1', { autonomous: true }))?.id).toBe(local.id);
    expect(await here.tasks.claim('auto-2', { autonomous: true })).toBeNull();
    expect((await here.tasks.claim('web', { autonomous: false }))?.id).toBe(named.id);
    expect((await here.tasks.get(elsewhere.id))?.state).toBe('queued');
  });

  it('is not starved by a queue head of tasks whose cwd is only elsewhere: a runnable task behind them is claimed', async () => {
    const here = await hostStore('here');
    await clear(here.tasks);
    // More than one claim window's worth, all older (and of higher priority) than the one this host can run.
    for (let i = 0; i < 120; i++) await here.tasks.add({ prompt: `for another host ${String(i)}`, cwd: '/nonexistent/cf-fleet-test-dir', priority: 1 });
    const runnable = await here.tasks.add({ prompt: 'runs here', cwd: '/tmp' });
    expect((await here.tasks.claim('auto-1', { autonomous: true }))?.id).toBe(runnable.id);
    expect(await here.tasks.claim('auto-2', { autonomous: true })).toBeNull();
  });
});
