import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/sqlite-store.js';
import { createEmbeddedSharedStore } from '../store/embedded-shared-store.js';
import type { PublishedLimit, SharedLedgerRow, SharedLimit, SharedStore } from '../store/shared-store.js';
import type { Store } from '../store/store.js';
import type { Notifier, NotifyEvent } from '../notify/notifier.js';
import type { LimitEvent } from '../monitor/limit-event.js';
import { silentLogger } from '../log.js';
import { FleetSync } from './fleet-sync.js';
import { fleetNotifier } from './fleet-notifier.js';

/** A shared store in memory that can be made to fail, like a database going away. */
function memoryShared(local: Store): SharedStore & { down: boolean; rows: Map<string, SharedLedgerRow>; claims: Set<string> } {
  const base = createEmbeddedSharedStore(local);
  const rows = new Map<string, SharedLedgerRow>();
  const claims = new Set<string>();
  const state = { down: false };
  const guard = <T>(value: () => T): Promise<T> => (state.down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : Promise.resolve(value()));
  const store = {
    ...base,
    kind: 'postgres' as const,
    get down() { return state.down; },
    set down(v: boolean) { state.down = v; },
    rows,
    claims,
    prepare: () => guard(() => undefined),
    ledger: () => guard(() => [...rows.values()]),
    publishLimit: (l: SharedLimit) =>
      guard((): PublishedLimit => {
        const current = rows.get(l.account);
        const standing = current?.exhausted === true && current.resetsAt !== null && current.resetsAt > new Date();
        const seq = (current?.seq ?? 0) + (standing ? 0 : 1);
        if (!standing) rows.set(l.account, { account: l.account, exhausted: true, kind: l.kind, resetsAt: l.resetsAt, resetGuessed: l.resetGuessed, source: l.source, host: l.host, seq, usagePercent: null, usageResetsAt: null, usageAt: null });
        return { fresh: !standing, seq };
      }),
    claimNotification: (key: string) => guard(() => (claims.has(key) ? false : (claims.add(key), true))),
    heartbeat: () => guard(() => undefined),
    hosts: () => guard(() => []),
    renewLeases: () => guard(() => undefined),
    addSwaps: () => guard(() => undefined),
    lastSwapId: () => guard(() => 0),
    publishUsage: (account: string, u: { percent: number; resetsAt: Date | null; at: Date }) =>
      guard(() => {
        const current = rows.get(account);
        if (current?.usageAt && current.usageAt >= u.at) return;
        const row = current ?? { account, exhausted: false, kind: null, resetsAt: null, resetGuessed: false, source: null, host: null, seq: 0, usagePercent: null, usageResetsAt: null, usageAt: null };
        rows.set(account, { ...row, usagePercent: u.percent, usageResetsAt: u.resetsAt, usageAt: u.at });
      }),
  };
  return store;
}

function recordingNotifier(): Notifier & { events: NotifyEvent[] } {
  const events: NotifyEvent[] = [];
  return { events, notify: (e) => { events.push(e); }, flush: () => Promise.resolve(), deliveries: () => [] };
}

const dirs: string[] = [];
const opened: { sync: FleetSync; store: Store }[] = [];
afterEach(async () => {
  for (const h of opened.splice(0)) {
    await h.sync.stop();
    h.store.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function host(name: string, shared: ReturnType<typeof memoryShared> | null) {
  const dir = mkdtempSync(join(tmpdir(), `cf-fleet-sync-${name}-`));
  dirs.push(dir);
  const store = openStore(join(dir, 'state'));
  const applied: LimitEvent[] = [];
  const notifier = recordingNotifier();
  const sharedStore = shared ?? memoryShared(store);
  const sync = new FleetSync({
    store, shared: sharedStore, host: name, now: () => new Date(), logger: silentLogger(), notifier, where: '127.0.0.1:5432/failover',
    applyLimit: (e) => { applied.push(e); store.markExhausted(e.account, { kind: e.kind, resetsAt: e.resetsAt, resetGuessed: e.precision === 'guess', source: `fleet:${e.precision}`, detectedAt: e.detectedAt }); },
    hostState: () => Promise.resolve({ activeAccount: store.getActiveAccount(), sessions: 0, runningTasks: 0 }),
    hasSession: () => true,
  });
  opened.push({ sync, store });
  return { store, applied, notifier, sync, shared: sharedStore };
}

describe('FleetSync', () => {
  const inAnHour = () => new Date(Date.now() + 3600_000);

  it('publishes this host\'s limit once, notifies it once for the fleet, and hands another host\'s limit to the monitor once', async () => {
    const h1 = host('h1', null);
    const h2 = host('h2', h1.shared);
    h1.store.markExhausted('A', { kind: 'five_hour', resetsAt: inAnHour(), resetGuessed: false, source: 'hook:epoch', detectedAt: new Date() });
    await h1.sync.syncNow();
    await h1.sync.syncNow();
    await h2.sync.syncNow();
    await h2.sync.syncNow();
    expect(h1.notifier.events.filter((e) => e.kind === 'limit')).toHaveLength(1);
    expect(h2.notifier.events.filter((e) => e.kind === 'limit')).toHaveLength(0);
    expect(h2.applied.map((e) => [e.account, e.source, e.precision])).toEqual([['A', 'fleet', 'epoch']]);
    expect(h1.applied).toEqual([]);
    // h2 learnt it from the fleet: it does not publish it as its own.
    await h2.sync.syncNow();
    expect([...(h1.shared).rows.values()].map((r) => [r.account, r.host, r.seq])).toEqual([['A', 'h1', 1]]);
  });

  it('orders usage readings by when each was read, not by when a ledger row last changed', async () => {
    const h1 = host('h1', null);
    const shared = h1.shared;
    const h2 = host('h2', shared);
    const readAt = Date.now();
    h1.store.recordUsage('A', { percent: 40, kind: 'five_hour', resetsAt: null, at: new Date(readAt - 60_000) });
    await h1.sync.syncNow();
    expect(shared.rows.get('A')).toMatchObject({ usagePercent: 40, usageAt: new Date(readAt - 60_000) });
    // h2 read A a minute later; then h1's row for A changes for another reason (a limit cleared).
    h2.store.recordUsage('A', { percent: 55, kind: 'five_hour', resetsAt: null, at: new Date(readAt) });
    await h2.sync.syncNow();
    h1.store.clearExhausted('A');
    await h1.sync.syncNow();
    // h1 takes h2's newer reading, keeping the time it was read at; its own older one is not sent again.
    expect(h1.store.getLedgerEntry('A')).toMatchObject({ usagePercent: 55, usageAt: new Date(readAt) });
    expect(shared.rows.get('A')).toMatchObject({ usagePercent: 55, usageAt: new Date(readAt) });
  });

  it('sends a limit\'s notification itself when the claim fails after the publish (the next pass finds it published, not fresh)', async () => {
    const h1 = host('h1', null);
    h1.shared.claimNotification = () => Promise.reject(new Error('Connection terminated unexpectedly'));
    h1.store.markExhausted('A', { kind: 'five_hour', resetsAt: inAnHour(), resetGuessed: false, source: 'hook:epoch', detectedAt: new Date() });
    await h1.sync.syncNow();
    await h1.sync.syncNow();
    expect(h1.shared.rows.get('A')?.exhausted).toBe(true);
    expect(h1.notifier.events.filter((e) => e.kind === 'limit')).toHaveLength(1);
  });

  it('goes degraded once when the database is lost, and writes back what it learnt when it returns', async () => {
    const h1 = host('h1', null);
    const shared = h1.shared;
    const h2 = host('h2', shared);
    await h1.sync.syncNow();
    expect(h1.sync.health.degraded).toBe(false);
    shared.down = true;
    await h1.sync.syncNow();
    await h1.sync.syncNow();
    expect(h1.sync.health.state?.reason).toContain('ECONNREFUSED');
    expect(h1.notifier.events.filter((e) => e.kind === 'fleet-degraded')).toHaveLength(1);
    // A limit learnt while the database is away stays in the local ledger ...
    h1.store.markExhausted('B', { kind: 'five_hour', resetsAt: inAnHour(), resetGuessed: false, source: 'transcript:epoch', detectedAt: new Date() });
    await h1.sync.syncNow();
    shared.down = false;
    await h1.sync.syncNow();
    // ... and reaches the fleet once it is back.
    expect(h1.sync.health.degraded).toBe(false);
    expect(h1.notifier.events.map((e) => e.kind)).toEqual(['fleet-degraded', 'limit', 'fleet-restored']);
    await h2.sync.syncNow();
    expect(h2.applied.map((e) => e.account)).toEqual(['B']);
  });

  it('a listener that cannot connect while the queries answer is no lost database: polling goes on, no degraded notice', async () => {
    const h1 = host('h1', null);
    const shared = h1.shared;
    // LISTEN refused (e.g. no connection slot left for it), every query answered.
    shared.onLedgerChange = () => Promise.reject(new Error('sorry, too many clients already'));
    const h2 = host('h2', shared);
    for (let i = 0; i < 3; i++) await h1.sync.syncNow();
    expect(h1.sync.health.degraded).toBe(false);
    expect(h1.notifier.events.map((e) => e.kind)).toEqual([]);
    // The ledger still travels by polling.
    h2.store.markExhausted('A', { kind: 'five_hour', resetsAt: inAnHour(), resetGuessed: false, source: 'hook:epoch', detectedAt: new Date() });
    await h2.sync.syncNow();
    await h1.sync.syncNow();
    expect(h1.applied.map((e) => e.account)).toEqual(['A']);
  });

  it('speaks once for the fleet: a swap off a fleet limit is not announced again, "every account is exhausted" goes to the first host to claim it', async () => {
    const h1 = host('h1', null);
    const shared = h1.shared;
    const inner1 = recordingNotifier();
    const inner2 = recordingNotifier();
    const n1 = fleetNotifier(inner1, { shared, host: 'h1', degraded: () => false, logger: silentLogger() });
    const n2 = fleetNotifier(inner2, { shared, host: 'h2', degraded: () => false, logger: silentLogger() });
    n1.notify({ kind: 'swap-done', text: 'Swapped accounts: A → B (limit)', details: { trigger: 'limit' } });
    n1.notify({ kind: 'swap-done', text: 'Swapped accounts: A → B (manual)', details: { trigger: 'manual' } });
    // A session that did not come back is this host's own news, fleet limit or not.
    n1.notify({ kind: 'swap-done', text: 'Swapped accounts: A → B (limit); 1/2 session(s) moved', details: { trigger: 'limit', sessions: [{ name: 'cc-1', ok: true }, { name: 'cc-2', ok: false }] } });
    n1.notify({ kind: 'no-account', key: 'no-account:2026-12-01T20:00:00.000Z', text: 'Every account is exhausted' });
    n2.notify({ kind: 'no-account', key: 'no-account:2026-12-01T20:00:00.000Z', text: 'Every account is exhausted' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(inner1.events.map((e) => e.text)).toEqual(['Swapped accounts: A → B (manual)', 'Swapped accounts: A → B (limit); 1/2 session(s) moved', 'Every account is exhausted']);
    expect(inner2.events).toEqual([]);
    // Degraded, a host speaks for itself.
    const lonely = fleetNotifier(inner2, { shared, host: 'h2', degraded: () => true, logger: silentLogger() });
    lonely.notify({ kind: 'swap-done', text: 'Swapped accounts: B → C (limit)', details: { trigger: 'limit' } });
    expect(inner2.events.map((e) => e.text)).toEqual(['Swapped accounts: B → C (limit)']);
  });
});
