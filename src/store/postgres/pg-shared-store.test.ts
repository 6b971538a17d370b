import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgSharedStore, SPREAD_LOCK } from './pg-shared-store.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import pg from 'pg';
import { SILENT_AFTER_MS, type SharedStore } from '../shared-store.js';
import { freshDatabase } from '../../../test/helpers/test-database.js';
import { waitFor } from '../../../test/helpers/wait-for.js';

describe('the shared store in PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  const stores: SharedStore[] = [];
  const open = (host: string, url = db.url, instance = `instance-of-${host}`): SharedStore => {
    const store = openPgSharedStore({ config: { url, tls: null, poolSize: 4, connectTimeoutMs: 2000 }, host, instance, leaseMs: 30_000 });
    stores.push(store);
    return store;
  };
  const inAnHour = () => new Date(Date.now() + 3600_000);

  beforeAll(async () => {
    db = await freshDatabase('pg_shared_store');
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await db.drop();
  });

  it('migrates once when several hosts start together', async () => {
    const hosts = [open('m1'), open('m2'), open('m3')];
    await Promise.all(hosts.map((h) => h.prepare()));
    expect(await hosts[0]?.ledger()).toEqual([]);
  });

  it('makes one host the first to see a limit (one notification), keeps the more precise reset, and starts anew after the reset', async () => {
    const [h1, h2] = [open('h1'), open('h2')];
    await Promise.all([h1.prepare(), h2.prepare()]);
    const resetsAt = inAnHour();
    const [a, b] = await Promise.all([
      h1.publishLimit({ account: 'A', kind: 'five_hour', resetsAt, resetGuessed: true, source: 'screen:guess', host: 'h1' }),
      h2.publishLimit({ account: 'A', kind: 'five_hour', resetsAt, resetGuessed: true, source: 'screen:guess', host: 'h2' }),
    ]);
    expect([a.fresh, b.fresh].filter(Boolean)).toHaveLength(1);
    expect(a.seq).toBe(1);
    expect(b.seq).toBe(1);
    const claims = await Promise.all([h1.claimNotification('limit:A:1', 'h1'), h2.claimNotification('limit:A:1', 'h2')]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    // An exact reset from the other host replaces the guess; the limit is the same one.
    const exact = new Date(resetsAt.getTime() + 120_000);
    expect(await h2.publishLimit({ account: 'A', kind: 'five_hour', resetsAt: exact, resetGuessed: false, source: 'hook:epoch', host: 'h2' })).toEqual({ fresh: false, seq: 1 });
    expect((await h1.ledger())[0]).toMatchObject({ account: 'A', exhausted: true, resetsAt: exact, source: 'hook:epoch', seq: 1 });
    // A guess never replaces an exact reset.
    await h1.publishLimit({ account: 'A', kind: 'five_hour', resetsAt, resetGuessed: true, source: 'screen:guess', host: 'h1' });
    expect((await h1.ledger())[0]?.source).toBe('hook:epoch');
    // Once its reset has passed, the next limit is a new one.
    await h1.publishLimit({ account: 'B', kind: 'five_hour', resetsAt: new Date(Date.now() - 1000), resetGuessed: false, source: 'hook:epoch', host: 'h1' });
    expect(await h2.publishLimit({ account: 'B', kind: 'five_hour', resetsAt: inAnHour(), resetGuessed: false, source: 'hook:epoch', host: 'h2' })).toEqual({ fresh: true, seq: 2 });
  });

  it('tells every listening host of a ledger change (LISTEN/NOTIFY)', async () => {
    const [listener, writer] = [open('l1'), open('w1')];
    await Promise.all([listener.prepare(), writer.prepare()]);
    let heard = 0;
    const stop = await listener.onLedgerChange(() => { heard++; }, () => undefined);
    await writer.publishLimit({ account: 'C', kind: 'seven_day', resetsAt: inAnHour(), resetGuessed: false, source: 'transcript:epoch', host: 'w1' });
    await waitFor(() => heard > 0, { what: 'the notification' });
    await stop();
  });

  it('keeps each host\'s heartbeat and swaps, written once however often they are sent', async () => {
    const h = open('hb');
    await h.prepare();
    await h.heartbeat({ name: 'hb', activeAccount: 'B', sessions: 3, runningTasks: 1, degraded: false });
    expect((await h.hosts()).find((x) => x.name === 'hb')).toMatchObject({ activeAccount: 'B', sessions: 3, runningTasks: 1, degraded: false });
    const swap = { id: 7, from: 'A', to: 'B', at: new Date(), result: 'done' as const, reason: null, trigger: 'limit' };
    await h.addSwaps('hb', [swap]);
    await h.addSwaps('hb', [swap]);
    expect(await h.lastSwapId('hb')).toBe(7);
    expect((await h.listSwaps(10)).filter((s) => s.host === 'hb')).toHaveLength(1);
    await h.publishUsage('A', { percent: 40, resetsAt: null, at: new Date(2000) });
    await h.publishUsage('A', { percent: 30, resetsAt: null, at: new Date(1000) });
    expect((await h.ledger()).find((r) => r.account === 'A')?.usagePercent).toBe(40);
  });

  it('refuses a second daemon under a host name another one reports under, lets the first go on, and lets a silent one\'s name be taken', async () => {
    const first = open('twin', db.url, 'state-dir-1');
    const second = open('twin', db.url, 'state-dir-2');
    await Promise.all([first.prepare(), second.prepare()]);
    const beat = { name: 'twin', activeAccount: 'A', sessions: 1, runningTasks: 0, degraded: false };
    await first.heartbeat(beat);
    const refused = await second.heartbeat({ ...beat, activeAccount: 'B' }).then(() => null, (e: unknown) => e as Error & { code?: string });
    expect(refused?.code).toBe('FLEET_HOST_TAKEN');
    expect(refused?.message).toMatch(/fleet\.host "twin" is in use by another claude-failover daemon \(it reported \d+ s ago .*\): give each host its own fleet\.host/);
    expect(refused?.message).not.toContain(new URL(db.url).password);
    // The refused heartbeat wrote nothing; the first daemon (restarted: the same instance) goes on.
    expect((await first.hosts()).find((h) => h.name === 'twin')?.activeAccount).toBe('A');
    await first.heartbeat({ ...beat, sessions: 2 });
    // Silent past SILENT_AFTER_MS (stopped for good, or moved): the name is the next daemon's.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query("UPDATE hosts SET last_seen = now() - make_interval(secs => $1) WHERE name = 'twin'", [SILENT_AFTER_MS / 1000 + 1]);
    await client.end();
    await second.heartbeat({ ...beat, activeAccount: 'B' });
    expect((await second.hosts()).find((h) => h.name === 'twin')?.activeAccount).toBe('B');
    expect((await first.heartbeat(beat).then(() => null, (e: unknown) => e as Error & { code?: string }))?.code).toBe('FLEET_HOST_TAKEN');
  });

  it('keeps the swaps of a host reinstalled under its old name (a new state dir numbers them from 1 again)', async () => {
    const old = open('rebuilt', db.url, 'old-state-dir');
    await old.prepare();
    const swap = (id: number, to: string) => ({ id, from: 'A', to, at: new Date(Date.now() + id), result: 'done' as const, reason: null, trigger: 'limit' });
    await old.addSwaps('rebuilt', [swap(1, 'B'), swap(2, 'C'), swap(3, 'B')]);
    const reinstalled = open('rebuilt', db.url, 'new-state-dir');
    expect(await reinstalled.lastSwapId('rebuilt')).toBe(0);
    await reinstalled.addSwaps('rebuilt', [swap(1, 'D')]);
    expect(await reinstalled.lastSwapId('rebuilt')).toBe(1);
    expect(await old.lastSwapId('rebuilt')).toBe(3);
    const mine = (await reinstalled.listSwaps(20)).filter((s) => s.host === 'rebuilt');
    expect(mine.map((s) => s.to).sort()).toEqual(['B', 'B', 'C', 'D']);
  });

  it('upgrading a database written before swaps were kept per daemon gives its swaps to the daemon reporting under that name: none is written twice', async () => {
    const older = await freshDatabase('pg_swaps_upgrade');
    const client = new pg.Client({ connectionString: older.url });
    await client.connect();
    try {
      // The schema as it stood just before the migration that keeps swaps per daemon.
      const before = PG_MIGRATIONS.findIndex((m) => m.includes('ALTER TABLE swaps ADD COLUMN instance'));
      expect(before).toBeGreaterThan(0);
      await client.query('CREATE TABLE cf_schema (version integer NOT NULL)');
      for (const sql of PG_MIGRATIONS.slice(0, before)) await client.query(sql);
      await client.query('INSERT INTO cf_schema (version) VALUES ($1)', [before]);
      await client.query("INSERT INTO hosts (name, instance, last_seen) VALUES ('old', 'its-state-dir', now())");
      await client.query("INSERT INTO swaps (host, local_id, at, result, trigger) VALUES ('old', 1, now(), 'done', 'limit'), ('old', 2, now(), 'done', 'limit')");
      const upgraded = open('old', older.url, 'its-state-dir');
      await upgraded.prepare();
      // A host not yet upgraded writes on after the migration, without an instance: its own swaps, adopted when it is.
      await client.query("INSERT INTO swaps (host, local_id, at, result, trigger) VALUES ('old', 3, now(), 'done', 'limit')");
      expect(await upgraded.lastSwapId('old')).toBe(3);
      await upgraded.addSwaps('old', [{ id: 2, from: 'A', to: 'B', at: new Date(), result: 'done', reason: null, trigger: 'limit' }]);
      expect((await upgraded.listSwaps(10)).filter((s) => s.host === 'old')).toHaveLength(3);
      await upgraded.close();
    } finally {
      await client.end();
      await older.drop();
    }
  });

  it('fleet.spread: hosts choosing at once choose one at a time and see each other\'s choice before any swap is done', async () => {
    const names = ['s1', 's2', 's3', 's4'];
    const hosts = names.map((n) => open(n));
    await Promise.all(hosts.map((h) => h.prepare()));
    // All four on X (the accounts of this test alone), then X's limit moves them all at the same moment.
    await Promise.all(hosts.map((h, i) => h.heartbeat({ name: names[i] ?? '', activeAccount: 'X', sessions: 1, runningTasks: 0, degraded: false })));
    const leastLoaded = (load: ReadonlyMap<string, number>) => {
      const account = ['Y', 'Z'].sort((x, y) => (load.get(x) ?? 0) - (load.get(y) ?? 0))[0] ?? null;
      return { result: { account, seen: Object.fromEntries(load) }, account };
    };
    const chosen = await Promise.all(hosts.map((h, i) => h.chooseSpread(names[i] ?? '', leastLoaded)));
    expect(chosen.map((c) => c.account).sort()).toEqual(['Y', 'Y', 'Z', 'Z']);
    // The last to choose saw the three before it: on X still, but moving to Y and Z.
    expect(chosen.map((c) => (c.seen.Y ?? 0) + (c.seen.Z ?? 0)).sort()).toEqual([0, 1, 2, 3]);
    // Once a host reports itself on its account the choice is done; a choice of nothing reserves nothing.
    await hosts[0]?.heartbeat({ name: 's1', activeAccount: chosen[0]?.account ?? null, sessions: 1, runningTasks: 0, degraded: false });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const row = async (name: string) => (await client.query<{ moving_to: string | null }>('SELECT moving_to FROM hosts WHERE name = $1', [name])).rows[0];
    expect(await row('s1')).toEqual({ moving_to: null });
    expect((await row('s2'))?.moving_to).toBe(chosen[1]?.account);
    await hosts[1]?.chooseSpread('s2', () => ({ result: null, account: null }));
    expect((await row('s2'))?.moving_to).toBe(chosen[1]?.account);
    await client.end();
  });

  it('fleet.spread: gives up on the choosing lock when a host holds it and goes silent, and chooses again once it is free', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [SPREAD_LOCK]);
    const h = open('waiter');
    await h.prepare();
    const ran: string[] = [];
    const err = await h.chooseSpread('waiter', () => { ran.push('chose'); return { result: 1, account: 'Y' }; }).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/lock timeout/);
    expect(ran).toEqual([]);
    await holder.query('ROLLBACK');
    await holder.end();
    // The connection the wait failed on was closed, not handed out again: the next choice works.
    expect(await h.chooseSpread('waiter', () => ({ result: 2, account: null }))).toBe(2);
  });

  it('says what went wrong without the URL or its password when the database cannot be reached', async () => {
    const url = new URL(db.url);
    url.port = '1';
    const unreachable = open('x', url.toString());
    const err = await unreachable.prepare().then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/could not be prepared/);
    expect(err?.message).toContain('127.0.0.1:1/');
    expect(err?.message).not.toContain(url.password);
    expect(err?.message).not.toContain(url.toString());
  });
});
