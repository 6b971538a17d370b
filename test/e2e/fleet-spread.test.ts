import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../helpers/postgres.js';
import { startTelegramStandIn, type TelegramStandIn } from '../helpers/telegram-stand-in.js';
import { FLEET_API_TOKEN, startTestFleet, type FleetTestHost, type TestFleet } from '../helpers/fleet-hosts.js';
import { waitFor } from '../helpers/wait-for.js';

const BIG = { limit: 100_000, used: 0, windowSeconds: 3600, turnMs: 150 };

/**
 * fleet.spread with three `run` daemons on one PostgreSQL: a limit one host meets moves all
 * three off the account in the same second, and they choose one at a time, so they spread
 * over the accounts left instead of all taking the first.
 */
describe('a fleet with fleet.spread', () => {
  let postgres: ThrowawayPostgres | undefined;
  let telegram: TelegramStandIn | undefined;
  let fleet: TestFleet | undefined;
  let setupError: Error | null = null;
  const host = (i: number): FleetTestHost => {
    const h = fleet?.hosts[i];
    if (!h) throw new Error(`no host ${String(i)}`);
    return h;
  };

  // A set-up that fails (no PostgreSQL here) fails the test, saying why: never a skipped suite.
  beforeAll(async () => {
    try {
      postgres = await startThrowawayPostgres('cf-spread-pg');
      telegram = await startTelegramStandIn();
      fleet = await startTestFleet({
        url: postgres.url,
        telegramUrl: telegram.url,
        leaseMs: 3000,
        spread: true,
        specs: [
          { name: 's1', accounts: [{ name: 'A', quota: { limit: 3, used: 0, windowSeconds: 3600, turnMs: 150 } }, { name: 'B', quota: BIG }, { name: 'C', quota: BIG }], dedicated: ['solo'] },
          { name: 's2', accounts: [{ name: 'A', quota: BIG }, { name: 'B', quota: BIG }, { name: 'C', quota: BIG }] },
          { name: 's3', accounts: [{ name: 'A', quota: BIG }, { name: 'B', quota: BIG }, { name: 'C', quota: BIG }] },
        ],
      });
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
    }
  }, 120_000);

  afterAll(async () => {
    await fleet?.close();
    await telegram?.close();
    await postgres?.destroy();
  }, 120_000);

  it('moves the hosts off a limited account onto both accounts left, each host choosing after the one before, and clears each choice once the host reports itself there', { timeout: 180_000 }, async () => {
    if (setupError) throw setupError;
    const db = fleet?.db;
    if (!db) throw new Error('no fleet database');
    await waitFor(async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM hosts WHERE active_account = 'A'")).rows[0]?.n === 3, { timeoutMs: 60_000, intervalMs: 250, what: 'three hosts on A' });

    // Host 1 uses up A: the fleet's limit moves every host off A at once.
    const res = await fetch(`${host(0).url()}/api/tasks`, { method: 'POST', headers: { authorization: `Bearer ${FLEET_API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'Use up A on host 1 [turns=5]', session: 'solo' }) });
    expect(res.status).toBe(201);
    const accounts = await waitFor(() => {
      const now = [0, 1, 2].map((i) => host(i).store().getActiveAccount());
      return now.every((a) => a !== 'A') && now;
    }, { timeoutMs: 60_000, intervalMs: 100, what: 'every host off A' });
    // Three hosts, two accounts left with equal headroom: two on one, one on the other.
    expect([...accounts].sort()).toSatisfy((sorted: string[]) => JSON.stringify(sorted) === JSON.stringify(['B', 'B', 'C']) || JSON.stringify(sorted) === JSON.stringify(['B', 'C', 'C']));
    const moving = await waitFor(async () => {
      const rows = (await db.query<{ name: string; active_account: string; moving_to: string | null }>('SELECT name, active_account, moving_to FROM hosts ORDER BY name')).rows;
      return rows.every((r) => r.moving_to === null) && rows;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'every choice cleared by its host reporting itself there' });
    expect(moving.map((r) => r.active_account)).toEqual(accounts);
  });
});
