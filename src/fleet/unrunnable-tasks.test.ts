import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import type { Notifier, NotifyEvent } from '../notify/notifier.js';
import { openPgSharedStore } from '../store/postgres/pg-shared-store.js';
import type { SharedStore } from '../store/shared-store.js';
import { freshDatabase } from '../../test/helpers/test-database.js';
import { sessionsOf, UnrunnableTasks } from './unrunnable-tasks.js';
import { SILENT_AFTER_MS } from '../store/shared-store.js';
import { configFromObject } from '../config/load.js';
import type { Config } from '../config/types.js';

/** A host's config with these sessions (a dedicated one needs a project dir: any will do). */
function poolConfig(sessions: { autonomous: boolean; dedicated: string[] }): Config {
  const result = configFromObject(
    {
      accounts: [{ name: 'A', home: '/h/a' }],
      pool: { autonomous: { prefix: 'auto-', startIndex: 1, min: 0, max: sessions.autonomous ? 2 : 0, project: '/srv' }, dedicated: sessions.dedicated.map((name) => ({ name, project: '/srv' })) },
    },
    { baseDir: '/etc/cf', env: { HOME: '/home/u' } },
  );
  if (!result.ok) throw new Error(result.report);
  return result.config;
}

function recordingNotifier(): Notifier & { events: NotifyEvent[] } {
  const events: NotifyEvent[] = [];
  return { events, notify: (e) => { events.push(e); }, flush: () => Promise.resolve(), deliveries: () => [] };
}

describe('tasks no live host of the fleet can run (a real PostgreSQL)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let dir: string;
  const stores: SharedStore[] = [];

  /** A host of the fleet: its shared store (heartbeat sent) and its judge, with the sessions it has. */
  const fleetHost = async (name: string, sessions: { autonomous: boolean; dedicated: string[] }, options: { graceMs?: number; clock?: { ms: number } } = {}) => {
    const shared = openPgSharedStore({ config: { url: db.url, tls: null, poolSize: 4, connectTimeoutMs: 5000 }, host: name, instance: `test-${name}`, leaseMs: 30_000 });
    stores.push(shared);
    await shared.prepare();
    await shared.heartbeat({ name, degraded: false, activeAccount: 'A', sessions: 1, runningTasks: 0 });
    const notifier = recordingNotifier();
    const clock = options.clock;
    const judge = new UnrunnableTasks({
      shared,
      host: name,
      now: () => (clock ? new Date(clock.ms) : new Date()),
      logger: silentLogger(),
      notifier,
      hasSession: sessionsOf(poolConfig(sessions)),
      everyMs: 0,
      graceMs: options.graceMs ?? 0,
    });
    return { shared, notifier, judge, check: () => judge.check() };
  };
  /** Make a host silent to the others: its last report older than SILENT_AFTER_MS, by the database's clock. */
  const silence = async (name: string) => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('UPDATE hosts SET last_seen = now() - make_interval(secs => $2) WHERE name = $1', [name, SILENT_AFTER_MS / 1000 + 1]);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    db = await freshDatabase('unrunnable_tasks');
    dir = mkdtempSync(join(tmpdir(), 'cf-unrunnable-'));
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells the fleet once when every live host has found it cannot run a task, names what it needs, and forgets it once one can', async () => {
    const h1 = await fleetHost('h1', { autonomous: true, dedicated: ['alpha'] });
    const h2 = await fleetHost('h2', { autonomous: false, dedicated: ['beta'] });
    const missing = join(dir, 'not-yet');
    const nowhere = await h1.shared.tasks.add({ prompt: 'in a directory no host has', cwd: missing });
    const noSession = await h1.shared.tasks.add({ prompt: 'for a session no host has', target: 'gamma' });
    const onH2 = await h1.shared.tasks.add({ prompt: 'for h2 only', target: 'beta' });
    const anywhere = await h1.shared.tasks.add({ prompt: 'for any autonomous session', cwd: dir });

    // h1 alone has looked: h2 may still run them, nothing is said.
    await h1.check();
    expect(h1.notifier.events).toEqual([]);
    expect((await h1.shared.tasks.get(onH2.id))?.cannotRunOn).toEqual(['h1']);
    expect((await h1.shared.tasks.get(anywhere.id))?.cannotRunOn).toEqual([]);

    // h2 looks too: the two tasks neither can run are told, once, by the host that completed the picture.
    await h2.check();
    await h1.check();
    await h2.check();
    const told = [...h1.notifier.events, ...h2.notifier.events];
    expect(told.map((e) => e.details?.task).sort()).toEqual([nowhere.id, noSession.id].sort());
    expect(told.every((e) => e.kind === 'task-unrunnable')).toBe(true);
    const aboutDir = told.find((e) => e.details?.task === nowhere.id)?.text ?? '';
    expect(aboutDir).toContain(`Task ${String(nowhere.id)} cannot run on any live host of the fleet (h1, h2): none has the directory ${missing} and an autonomous session`);
    expect(aboutDir).toContain(`claude-failover task cancel ${String(nowhere.id)}`);
    expect(told.find((e) => e.details?.task === noSession.id)?.text).toContain('none has the dedicated session gamma');
    expect((await h1.shared.tasks.get(nowhere.id))?.cannotRunOn?.slice().sort()).toEqual(['h1', 'h2']);
    expect((await h1.shared.tasks.get(onH2.id))?.cannotRunOn).toEqual(['h1']);
    expect((await h1.shared.tasks.get(nowhere.id))?.state).toBe('queued');

    // The directory appears: the hosts take their names off, and h1 can claim it.
    mkdirSync(missing);
    await h1.check();
    await h2.check();
    expect((await h1.shared.tasks.get(nowhere.id))?.cannotRunOn).toEqual(['h2']);
    await h1.shared.tasks.cancel(noSession.id);
    await h1.shared.tasks.cancel(onH2.id);
    await h1.shared.tasks.cancel(anywhere.id);
    expect((await h1.shared.tasks.claim('auto-1', { autonomous: true }))?.id).toBe(nowhere.id);
    expect([...h1.notifier.events, ...h2.notifier.events]).toHaveLength(2);
  });

  it('does not wait on a silent host: the live ones decide (by the database\'s clock)', async () => {
    const h3 = await fleetHost('h3', { autonomous: true, dedicated: [] });
    const h4 = await fleetHost('h4', { autonomous: true, dedicated: [] });
    const task = await h3.shared.tasks.add({ prompt: 'for a session only a dead host had', target: 'delta' });
    for (const name of ['h1', 'h2', 'h3']) await silence(name);
    await h4.check();
    expect(h4.notifier.events.filter((e) => e.details?.task === task.id)).toHaveLength(1);
    expect(h4.notifier.events.find((e) => e.details?.task === task.id)?.text).toContain('fleet (h4)');
    await h3.shared.tasks.cancel(task.id);
  });

  it('takes a target the way a claim does: an autonomous slot by name is a session of this host', async () => {
    const h5 = await fleetHost('h5', { autonomous: true, dedicated: [] });
    for (const name of ['h1', 'h2', 'h3', 'h4']) await silence(name);
    const slot = await h5.shared.tasks.add({ prompt: 'for the first autonomous slot', target: 'auto-1' });
    await h5.check();
    expect((await h5.shared.tasks.get(slot.id))?.cannotRunOn).toEqual([]);
    expect(h5.notifier.events).toEqual([]);
    expect((await h5.shared.tasks.claim('auto-1', { autonomous: true }))?.id).toBe(slot.id);
  });

  it('tells nothing until this host has been in touch with the database for SILENT_AFTER_MS without a break (the others\' reports may be old after an outage)', async () => {
    const clock = { ms: Date.now() };
    const h6 = await fleetHost('h6', { autonomous: true, dedicated: [] }, { graceMs: SILENT_AFTER_MS, clock });
    for (const name of ['h1', 'h2', 'h3', 'h4', 'h5']) await silence(name);
    const task = await h6.shared.tasks.add({ prompt: 'for a session nobody has', target: 'epsilon' });
    await h6.check();
    clock.ms += SILENT_AFTER_MS - 1000;
    await h6.check();
    expect(h6.notifier.events).toEqual([]);
    // The database lost and found again: the wait starts over.
    h6.judge.lostTouch();
    clock.ms += 2000;
    await h6.check();
    clock.ms += SILENT_AFTER_MS - 1000;
    await h6.check();
    expect(h6.notifier.events).toEqual([]);
    clock.ms += 1000;
    await h6.check();
    expect(h6.notifier.events.map((e) => e.details?.task)).toEqual([task.id]);
    await h6.shared.tasks.cancel(task.id);
  });

  it('a retried task is judged afresh: its old verdicts are cleared', async () => {
    const h7 = await fleetHost('h7', { autonomous: false, dedicated: [] });
    const task = await h7.shared.tasks.add({ prompt: 'for any autonomous session' });
    await h7.check();
    expect((await h7.shared.tasks.get(task.id))?.cannotRunOn).toContain('h7');
    await h7.shared.tasks.cancel(task.id);
    expect((await h7.shared.tasks.retry(task.id))?.cannotRunOn).toEqual([]);
    await h7.shared.tasks.cancel(task.id);
  });
});
