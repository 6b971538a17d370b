import { existsSync } from 'node:fs';
import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { Config } from '../config/types.js';
import { SILENT_AFTER_MS, type FleetHost } from '../store/shared-store.js';
import { openPreparedSharedStore } from '../store/open-shared-store.js';
import { createEmbeddedSharedStore } from '../store/embedded-shared-store.js';
import { openStore, storeFile } from '../store/sqlite-store.js';
import { describeDatabase } from '../store/postgres/database-url.js';
import { describeError } from '../errors.js';
import { configFor } from './shared.js';

/** Every host as the shared store knows it; a single host (no store.shared) is this one, read from its own store. */
async function readHosts(config: Config): Promise<{ where: string; hosts: FleetHost[] }> {
  const shared = config.store.shared;
  if (shared) {
    const store = await openPreparedSharedStore(config, shared);
    try {
      return { where: `postgres ${describeDatabase(shared.url)}`, hosts: await store.hosts() };
    } finally {
      await store.close();
    }
  }
  if (!existsSync(storeFile(config.stateDir))) return { where: 'this host only (no store.shared)', hosts: [] };
  const local = openStore(config.stateDir);
  try {
    const embedded = createEmbeddedSharedStore(local);
    const running = await local.tasks.list({ state: 'running' });
    await embedded.heartbeat({ name: config.fleet.host, activeAccount: local.getActiveAccount(), sessions: local.listSessions().length, runningTasks: running.length, degraded: false });
    return { where: 'this host only (no store.shared)', hosts: await embedded.hosts() };
  } finally {
    local.close();
  }
}

/** A host cut off from the database cannot say so there: to the others it is silent. */
function stateOf(host: FleetHost, now: Date): string {
  return now.getTime() - host.lastSeen.getTime() > SILENT_AFTER_MS ? 'silent' : 'ok';
}

function table(hosts: readonly FleetHost[], now: Date): string {
  const ago = (d: Date) => `${String(Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000)))} s ago`;
  const rows = [['HOST', 'LAST SEEN', 'ACCOUNT', 'SESSIONS', 'TASKS', 'STATE'], ...hosts.map((h) => [h.name, ago(h.lastSeen), h.activeAccount ?? '-', String(h.sessions), String(h.runningTasks), stateOf(h, now)])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function fleetCommand(): CommandUnknownOpts {
  const fleet = new Command('fleet').summary('the hosts sharing the accounts (store.shared)').description('The hosts that share the accounts, the ledger and the task queue through store.shared (PostgreSQL).');
  fleet
    .command('status')
    .summary('every host: name, last seen, active account, sessions, running tasks')
    .description(
      'Lists every host of the fleet as the shared database knows it: its name (fleet.host), when it was last seen (each daemon reports every second), its active account, its managed sessions and its running tasks, and its state: ok, or silent (not seen for 30 s: stopped, or cut off from the shared database; a cut-off host goes on failing over on its own ledger and its own /healthz and status say it is degraded). Without store.shared, the one host is this one, read from its state store: its state then says nothing of whether a daemon runs (use status or /healthz for that).\n\n' +
        'Reads the database directly: it works with no daemon running. Exit 1 when the database cannot be reached. --json prints {"shared": …, "hosts": [{name, lastSeen, activeAccount, sessions, runningTasks, state}]}.',
    )
    .option('--json', 'print JSON')
    .action(async (opts, command) => {
      const config = configFor(command);
      const now = new Date();
      try {
        const { where, hosts } = await readHosts(config);
        if (opts.json) {
          process.stdout.write(JSON.stringify({ shared: where, hosts: hosts.map((h) => ({ name: h.name, lastSeen: h.lastSeen.toISOString(), activeAccount: h.activeAccount, sessions: h.sessions, runningTasks: h.runningTasks, state: stateOf(h, now) })) }, null, 2) + '\n');
        } else {
          process.stdout.write(`shared state: ${where}\n${hosts.length === 0 ? 'no host has reported yet (start the daemon: claude-failover run)' : table(hosts, now)}\n`);
        }
      } catch (err) {
        process.stderr.write(`claude-failover fleet status: ${describeError(err)}\n`);
        process.exitCode = 1;
      }
    });
  return fleet;
}
