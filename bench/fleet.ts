/**
 * The fleet's figure (issue 14): from a limit seen on one host to every other host off that
 * account, with three hosts (three `claude-failover run` daemons on one machine, each with its
 * own home, tmux server and state dir; one throwaway PostgreSQL). Each trial runs out host 1's
 * account A (the fake Claude Code's quota), then waits for the three to return to A after its
 * reset. Times come from the daemons' own JSON logs (milliseconds): host 1's "usage limit
 * detected" → each other host's "switch request: done" away from A.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startThrowawayPostgres } from '../test/helpers/postgres.js';
import { startTelegramStandIn } from '../test/helpers/telegram-stand-in.js';
import { startTestFleet, typeInto, type FleetTestHost } from '../test/helpers/fleet-hosts.js';
import { tmux } from '../test/helpers/e2e.js';
import { percentile } from './proc-usage.js';

const TRIALS = Number(process.env.BENCH_FLEET_TRIALS ?? 10);
const RESET_SECONDS = 8;

export interface FleetFigures {
  readonly hosts: number;
  readonly trials: number;
  /** Host 1's limit detected → the last other host's last session on the account replaced (respawned on B): nothing sends to A any more. */
  readonly noSessionOnAccountMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** Host 1's limit detected → the last other host's swap off the account committed (its sessions ready on B). */
  readonly offAccountMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** Host 1's limit detected → the last other host applying it to its ledger (the database's part). */
  readonly propagationMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** Trials where no session of hosts 2 and 3 was left on the account within 1 s. */
  readonly within1s: number;
  readonly at: string;
  /** The machine's load average (1 / 5 / 15 min) before the trials: the figures depend on it. */
  readonly loadBefore: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`bench (fleet): timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface LogLine { time: number; msg: string; from?: string; to?: string; account?: string }

/** The daemon's log lines stamped at or after `since` (the log reaches its file through a pipe: by time, not by offset). */
function logSince(host: FleetTestHost, since: number): LogLine[] {
  return readFileSync(host.logFile, 'utf8').split('\n').flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as LogLine;
      return parsed.time >= since ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

const figures = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values) });

export async function fleetFigures(say: (line: string) => void): Promise<FleetFigures> {
  const loadBefore = loadavg().map((n) => n.toFixed(2)).join(' / ');
  const postgres = await startThrowawayPostgres('cf-bench-fleet-pg');
  const telegram = await startTelegramStandIn();
  const quota = { limit: 100_000, used: 0, windowSeconds: 3600, turnMs: 50 };
  const fleet = await startTestFleet({
    url: postgres.url,
    telegramUrl: telegram.url,
    leaseMs: 30_000,
    monitor: { returnMarginMs: 300, pollIntervalMs: 1000 },
    specs: ['h1', 'h2', 'h3'].map((name) => ({ name, accounts: [{ name: 'A', quota }, { name: 'B', quota }], autonomous: { min: 1, max: 1 } })),
  });
  const [first, ...others] = fleet.hosts;
  if (!first) throw new Error('no host');
  const offAccount: number[] = [];
  const noSession: number[] = [];
  const propagation: number[] = [];
  try {
    for (let trial = 1; trial <= TRIALS; trial++) {
      await until(() => fleet.hosts.every((h) => h.store().getActiveAccount() === 'A' && h.store().getSession('auto-1')?.state === 'idle' && h.store().getSession('auto-1')?.account === 'A'), 90_000, 'every host idle on A');
      const since = Date.now();
      await first.sandbox.setQuota('A', { limit: 1, used: 1, resetsAt: Math.floor(Date.now() / 1000) + RESET_SECONDS });
      await typeInto(first.socket, 'auto-1', `Run out of A, trial ${String(trial)} [turns=1]`, tmux);
      await until(() => others.every((h) => h.store().getActiveAccount() === 'B'), 30_000, 'the other hosts off A');
      await sleep(300);
      const detected = logSince(first, since).find((l) => l.msg.startsWith('usage limit detected'))?.time;
      if (detected === undefined) throw new Error(`bench (fleet): host 1 logged no limit:\n${logSince(first, since).map((l) => JSON.stringify(l)).join('\n')}`);
      const left = others.map((h) => logSince(h, since).find((l) => l.msg === 'switch request: done' && l.from === 'A')?.time ?? NaN);
      const applied = others.map((h) => logSince(h, since).find((l) => l.msg === 'a limit from the fleet')?.time ?? NaN);
      const respawned = others.map((h) => logSince(h, since).find((l) => l.msg === 'session started' && l.account === 'B')?.time ?? NaN);
      offAccount.push(Math.max(...left) - detected);
      noSession.push(Math.max(...respawned) - detected);
      propagation.push(Math.max(...applied) - detected);
      say(`  fleet trial ${String(trial)}: limit on h1 → h2 and h3 know it after ${String(propagation.at(-1))} ms, no session on A after ${String(noSession.at(-1))} ms, swap done after ${String(offAccount.at(-1))} ms`);
      await first.sandbox.setQuota('A', { limit: 100_000, used: 0 });
    }
  } finally {
    await fleet.close();
    await telegram.close();
    await postgres.destroy();
  }
  return { hosts: 3, trials: TRIALS, noSessionOnAccountMs: figures(noSession), offAccountMs: figures(offAccount), propagationMs: figures(propagation), within1s: noSession.filter((ms) => ms <= 1000).length, at: new Date().toISOString(), loadBefore };
}

export function renderFleet(f: FleetFigures | undefined): string[] {
  if (!f) return ['## Fleet', '', '_No fleet figures yet: run `npm run bench` (or `BENCH_ONLY=fleet`)._', ''];
  return [
    '## Fleet: a limit on one host → every other host off that account',
    '',
    `Measured ${f.at}. ${String(f.hosts)} hosts (three \`claude-failover run\` daemons on one machine, each with its own home, tmux server and state dir; one throwaway PostgreSQL), one idle session each. From host 1's "usage limit detected" to the later of hosts 2 and 3: applying the limit to its ledger (LISTEN/NOTIFY), its session on A replaced by one on B (nothing sends to A any more: the target, within 1 s), and its swap committed (the new session ready, its readiness check passed: the fake Claude Code starts in 400 ms).`,
    '',
    '| figure | trials | p50 ms | p95 ms | max ms |',
    '| --- | --- | --- | --- | --- |',
    `| limit on host 1 → hosts 2 and 3 know it | ${String(f.trials)} | ${String(f.propagationMs.p50)} | ${String(f.propagationMs.p95)} | ${String(f.propagationMs.max)} |`,
    `| limit on host 1 → no session of hosts 2 and 3 on the account | ${String(f.trials)} | ${String(f.noSessionOnAccountMs.p50)} | ${String(f.noSessionOnAccountMs.p95)} | ${String(f.noSessionOnAccountMs.max)} |`,
    `| limit on host 1 → hosts 2 and 3's swaps done | ${String(f.trials)} | ${String(f.offAccountMs.p50)} | ${String(f.offAccountMs.p95)} | ${String(f.offAccountMs.max)} |`,
    '',
    `${String(f.within1s)} of ${String(f.trials)} trials left no session on the account within 1 s. Load average before: ${f.loadBefore}.`,
    '',
  ];
}
