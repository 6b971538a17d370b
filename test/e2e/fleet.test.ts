import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESUME_PROMPT } from '../../src/config/schema.js';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { TEST_PG_PASSWORD } from '../helpers/postgres.js';
import { BIG_QUOTA, FLEET_API_TOKEN, fleetHostSandbox, threeHosts, typeInto, useTestFleet, type FleetTestHost } from '../helpers/fleet-hosts.js';
import { tmux, transcripts, userPrompts } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait-for.js';
import { runCli } from '../helpers/cli.js';
import { launchChromium, logInWithToken } from '../helpers/browser.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../helpers/private-tmux.js';

const LEASE_MS = 3000;

function prompts(sandbox: Sandbox): string[] {
  return [...transcripts(sandbox).values()].flatMap((lines) => userPrompts(lines)).filter((p) => p !== DEFAULT_RESUME_PROMPT);
}

/** Whether any transcript on the host holds a limit record: the host met a limit itself. */
function metALimit(sandbox: Sandbox): boolean {
  return [...transcripts(sandbox).values()].some((lines) => lines.some((l) => l.includes('"isApiErrorMessage":true')));
}

async function health(host: FleetTestHost): Promise<{ status: number; body: string }> {
  const res = await fetch(`${host.url()}/healthz`);
  return { status: res.status, body: await res.text() };
}

/**
 * Three daemons on one machine as three hosts of one fleet: separate homes, tmux servers and
 * state dirs, one PostgreSQL. Each daemon is a `claude-failover run` of its own, so a host can
 * be killed as a machine dies.
 */
describe('a fleet: three hosts share the accounts through PostgreSQL', () => {
  const fixture = useTestFleet('cf-fleet', {
    leaseMs: LEASE_MS,
    // Only host 1 can run out of A (its quota is small); only it has the session 'solo'.
    specs: threeHosts(['h1', 'h2', 'h3']),
  });
  const host = (i: number): FleetTestHost => fixture.host(i);

  it('moves every host off an account the moment one host hits its limit, runs one queue across the hosts, survives a host dying and the database going away', { timeout: 300_000 }, async () => {
    const { fleet, postgres: pg, telegram: standIn } = fixture.ready();
    const db = fleet.db;
    // Every host reports to the fleet.
    const status = await waitFor(async () => {
      const run = await runCli(['--config', host(0).sandbox.configFile, 'fleet', 'status', '--json']);
      const parsed = JSON.parse(run.stdout) as { hosts: { name: string; activeAccount: string | null; state: string }[] };
      return parsed.hosts.length === 3 && parsed.hosts.every((h) => h.activeAccount === 'A') && { run, parsed };
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'three hosts on A in fleet status' });
    expect(status.parsed.hosts.map((h) => h.name)).toEqual(['h1', 'h2', 'h3']);
    expect(status.run.stdout).not.toContain(TEST_PG_PASSWORD);

    // 0. A second machine set up with h2's fleet.host (a copied config) is refused at start, saying why;
    // h2 goes on as itself (two daemons under one name would renew and requeue each other's tasks).
    const twinRoot = await makeTempDir('cf-fleet-twin');
    const twinSocket = privateSocketName('cf-fleet-twin');
    try {
      const twin = await fleetHostSandbox({ url: pg.url, telegramUrl: standIn.url, leaseMs: LEASE_MS }, { name: 'h2', accounts: [{ name: 'A', quota: BIG_QUOTA }, { name: 'B', quota: BIG_QUOTA }] }, twinRoot, twinSocket);
      const refused = await runCli(['--config', twin.configFile, 'run'], { timeoutMs: 60_000 });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/fleet\.host "h2" is in use by another claude-failover daemon \(it reported \d+ s ago to the shared database at [^)]*\): give each host its own fleet\.host/);
      expect(refused.stderr).not.toContain(TEST_PG_PASSWORD);
    } finally {
      await killPrivateServer(twinSocket).catch(() => undefined);
      await removeTempDir(twinRoot);
    }
    await waitFor(() => host(1).child?.exitCode === null, { what: 'h2 still running' });
    const hosts = await db.query<{ name: string; instance: string }>('SELECT name, instance FROM hosts ORDER BY name');
    expect(hosts.rows.find((r) => r.name === 'h2')?.instance).toBe(host(1).store().instanceId());

    // 1. A limit on A on host 1: hosts 2 and 3 leave A without meeting it themselves.
    const post = async (h: FleetTestHost, body: Record<string, unknown>) => {
      const res = await fetch(`${h.url()}/api/tasks`, { method: 'POST', headers: { authorization: `Bearer ${FLEET_API_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: number };
    };
    const wall = await post(host(0), { prompt: 'Use up A on host 1 [turns=5]', session: 'solo' });
    await waitFor(() => [0, 1, 2].every((i) => host(i).store().getActiveAccount() === 'B'), { timeoutMs: 60_000, intervalMs: 100, what: 'every host off A (on B)' });
    for (const i of [1, 2]) {
      const entry = host(i).store().getLedgerEntry('A');
      expect(entry?.exhausted).toBe(true);
      expect(entry?.source).toMatch(/^fleet:/);
      expect(metALimit(host(i).sandbox)).toBe(false);
      expect(host(i).store().listSessions().every((s) => s.account === 'B')).toBe(true);
    }
    expect(metALimit(host(0).sandbox)).toBe(true);
    await waitFor(async () => (await db.query<{ state: string }>('SELECT state FROM tasks WHERE id = $1', [wall.id])).rows[0]?.state === 'done', { timeoutMs: 60_000, what: 'the task that hit the wall done on B' });
    await waitFor(() => standIn.messages.some((m) => String(m.body.text).includes('Account A hit its')), { what: 'the limit notification' });

    // The status (API, page, CLI) shows every host; nothing shows the database's password.
    const { apiText, report } = await waitFor(async () => {
      const api = await fetch(`${host(0).url()}/api/status`, { headers: { authorization: `Bearer ${FLEET_API_TOKEN}` } });
      const body = await api.text();
      const parsed = JSON.parse(body) as { fleet: { host: string; degraded: unknown; hosts: { name: string; activeAccount: string }[] } };
      return parsed.fleet.hosts.every((h) => h.activeAccount === 'B') && { apiText: body, report: parsed };
    }, { what: 'the status naming every host on B' });
    expect(report.fleet).toMatchObject({ host: 'h1', degraded: null });
    expect(report.fleet.hosts.map((h) => h.name)).toEqual(['h1', 'h2', 'h3']);
    expect(apiText).not.toContain(TEST_PG_PASSWORD);
    const text = await runCli(['--config', host(1).sandbox.configFile, 'status', '--no-color']);
    expect(text.stdout).toMatch(/FLEET/);
    expect(text.stdout).toMatch(/h3\s/);
    expect(text.stdout + text.stderr).not.toContain(TEST_PG_PASSWORD);

    // 2. 30 tasks queued through host 2 run across the three hosts, each done once; host 3 dies mid-task.
    // With them, a task whose directory no host has: it waits, and the fleet is told once.
    const nowhereDir = join(host(1).sandbox.root, 'a directory on no host');
    const nowhere = await post(host(1), { prompt: 'Work in a directory no host has', cwd: nowhereDir });
    const ids: number[] = [];
    for (let i = 1; i <= 30; i++) ids.push((await post(host(1), { prompt: `Fleet task ${String(i)} [turns=4]` })).id);
    const victim = await waitFor(async () => (await db.query<{ id: string }>("SELECT id FROM tasks WHERE host = 'h3' AND state = 'running' ORDER BY id LIMIT 1")).rows[0]?.id, { timeoutMs: 60_000, intervalMs: 100, what: 'a task running on host 3' });
    await host(2).kill();
    const ended = await waitFor(async () => {
      const rows = (await db.query<{ id: string; state: string; host: string | null; attempts: number; prompt: string }>('SELECT id, state, host, attempts, prompt FROM tasks WHERE id = ANY($1::bigint[])', [ids])).rows;
      return rows.length === 30 && rows.every((r) => r.state === 'done') && rows;
    }, { timeoutMs: 150_000, intervalMs: 500, what: 'all 30 tasks done' });
    const killed = ended.find((r) => r.id === victim);
    expect(killed?.host).not.toBe('h3');
    expect(killed?.attempts).toBe(2);
    expect(new Set(ended.map((r) => r.host)).size).toBeGreaterThan(1);
    const seen = [0, 1, 2].map((i) => prompts(host(i).sandbox));
    for (const task of ended) {
      // Done exactly once: on the host that finished it, once; a task host 3 had when it died shows there too, never twice elsewhere.
      const elsewhere = [0, 1].map((i) => seen[i]?.filter((p) => p === task.prompt).length ?? 0).reduce((a, b) => a + b, 0);
      if (task.host === 'h3') expect(elsewhere).toBe(0);
      else expect(elsewhere).toBe(1);
    }

    // Every live host has found it cannot run the task in the directory none has (host 3 is silent by now, or said so too).
    // Bounded by the hosts' own clocks: a 10 s judging period, 30 s before a killed host is silent.
    const unrunnable = await waitFor(() => standIn.messages.map((m) => String(m.body.text)).find((t) => t.startsWith(`Task ${String(nowhere.id)} cannot run on any live host`)), { timeoutMs: 90_000, intervalMs: 500, what: 'the notification of a task no host can run' });
    expect(unrunnable).toContain(`none has the directory ${nowhereDir} and an autonomous session`);
    // The status page (Chromium) says it too, in the task's row.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await logInWithToken(page, host(0).url(), FLEET_API_TOKEN);
      const row = page.locator(`[data-task="${String(nowhere.id)}"]`);
      const rowText = await waitFor(async () => {
        const text = await row.innerText({ timeout: 1000 }).catch(() => '');
        return text.includes('cannot run on') && text;
      }, { timeoutMs: 30_000, intervalMs: 250, what: 'the page showing the task no host can run' });
      expect(rowText).toMatch(/queued[\s\S]*cannot run on (h\d, )*h\d/);
    } finally {
      await browser.close();
    }
    const shown = await runCli(['--config', host(0).sandbox.configFile, 'task', 'show', String(nowhere.id)]);
    expect(shown.stdout).toMatch(/^task \d+: queued$/m);
    expect(shown.stdout).toMatch(/^ {2}waiting {4}cannot run on (h\d, )*h\d \(its cwd or its session is not theirs\)$/m);
    for (const name of ['h1', 'h2']) expect(shown.stdout.split('\n').find((l) => l.includes('waiting'))).toContain(name);
    expect((await runCli(['--config', host(0).sandbox.configFile, 'task', 'cancel', String(nowhere.id)])).code).toBe(0);

    // 3. The database stops for 30 s: each host fails over on its own, then merges back.
    const stoppedAt = Date.now();
    await pg.stop();
    await waitFor(async () => (await Promise.all([0, 1].map((i) => health(host(i))))).every((r) => r.status === 503 && r.body.includes('fleet degraded')), { timeoutMs: 20_000, intervalMs: 250, what: 'hosts 1 and 2 degraded' });
    const metrics = await (await fetch(`${host(0).url()}/metrics`)).text();
    expect(metrics).toMatch(/^claude_failover_fleet_degraded 1$/m);
    expect(metrics).not.toContain(TEST_PG_PASSWORD);
    // The queue lives in the database: the API says it is out of reach (503, try again), not a bare 500.
    const tasksDown = await fetch(`${host(0).url()}/api/tasks`, { headers: { authorization: `Bearer ${FLEET_API_TOKEN}` } });
    expect(tasksDown.status).toBe(503);
    expect(tasksDown.headers.get('retry-after')).toBe('5');
    expect(await tasksDown.json()).toEqual({ error: 'the task queue could not be read or written (the shared database may be out of reach): try again' });
    await host(1).sandbox.setQuota('B', { limit: 1, used: 1 });
    await typeInto(host(1).socket, 'auto-1', 'Hit the wall on B [turns=1]', tmux);
    await waitFor(() => host(1).store().getActiveAccount() === 'C', { timeoutMs: 20_000, intervalMs: 100, what: 'host 2 on C on its own' });
    expect(host(0).store().getActiveAccount()).toBe('B');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - stoppedAt))));
    await pg.start();
    await waitFor(() => host(0).store().getActiveAccount() === 'C', { timeoutMs: 30_000, intervalMs: 100, what: 'host 1 off B once the limit host 2 learnt meanwhile is written back' });
    const ledgerB = (await db.query<{ host: string; exhausted: boolean }>("SELECT host, exhausted FROM ledger WHERE account = 'B'")).rows[0];
    expect(ledgerB).toEqual({ host: 'h2', exhausted: true });
    const swaps = (await db.query<{ host: string; from_account: string; to_account: string }>("SELECT host, from_account, to_account FROM swaps WHERE result = 'done' ORDER BY at")).rows;
    expect(swaps).toContainEqual({ host: 'h2', from_account: 'B', to_account: 'C' });
    await waitFor(async () => (await Promise.all([0, 1].map((i) => health(host(i))))).every((r) => !r.body.includes('fleet degraded')), { timeoutMs: 20_000, intervalMs: 250, what: 'hosts 1 and 2 back in the fleet' });

    // One notification per limit for the whole fleet; none carries the database's password.
    const texts = standIn.messages.map((m) => String(m.body.text));
    expect(texts.filter((t) => t.includes('Account A hit its'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('Account B hit its'))).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith('Swapped accounts: A'))).toHaveLength(0);
    expect(texts.filter((t) => t.includes('lost the shared database'))).toHaveLength(2);
    expect(texts.filter((t) => t.includes('cannot run on any live host'))).toHaveLength(1);
    expect(texts.join('\n')).not.toContain(TEST_PG_PASSWORD);
  });
});
