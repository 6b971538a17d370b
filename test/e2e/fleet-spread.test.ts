import { describe, expect, it } from 'vitest';
import { FLEET_API_TOKEN, threeHosts, useTestFleet, type FleetTestHost } from '../helpers/fleet-hosts.js';
import { waitFor } from '../helpers/wait-for.js';


/**
 * fleet.spread with three `run` daemons on one PostgreSQL: a limit one host meets moves all
 * three off the account in the same second, and they choose one at a time, so they spread
 * over the accounts left instead of all taking the first.
 */
describe('a fleet with fleet.spread', () => {
  const fixture = useTestFleet('cf-spread', {
    leaseMs: 3000,
    spread: true,
    specs: threeHosts(['s1', 's2', 's3']),
  });
  const host = (i: number): FleetTestHost => fixture.host(i);

  it('moves the hosts off a limited account onto both accounts left, each host choosing after the one before, and clears each choice once the host reports itself there', { timeout: 180_000 }, async () => {
    const db = fixture.ready().fleet.db;
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
