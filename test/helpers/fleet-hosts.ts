import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres.js';
import { startTelegramStandIn, type TelegramStandIn } from './telegram-stand-in.js';
import { createSandbox, type Sandbox, type SandboxAccount } from '../../src/demo/sandbox.js';
import { listeningPath } from '../../src/accounts/hook-endpoint.js';
import { openStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';
import { killPrivateServer, privateSocketName } from './private-tmux.js';
import { exitOf, spawnCli } from './cli.js';
import { waitFor } from './wait-for.js';

export const FLEET_API_TOKEN = 'fleet-api-token-0123456789';

/** One host of a test fleet: its own home, tmux server and state dir; the daemon a child process (`run`). */
export interface FleetTestHost {
  readonly name: string;
  readonly sandbox: Sandbox;
  readonly socket: string;
  /** Where the daemon's output (its JSON log) goes. */
  readonly logFile: string;
  child: ChildProcess | null;
  /** Its own store, read as the CLI reads it (SQLite's WAL lets the daemon go on writing). */
  store(): Store;
  /** The daemon's HTTP base URL, once it listens. */
  url(): string;
  start(): void;
  /** SIGKILL, and its tmux server with it: the machine is gone. */
  kill(): Promise<void>;
  closeStore(): void;
}

export interface HostSpec {
  readonly name: string;
  readonly accounts: readonly SandboxAccount[];
  readonly dedicated?: readonly string[];
  readonly autonomous?: { readonly min: number; readonly max: number };
}

/** A quota no test uses up. */
export const BIG_QUOTA = { limit: 100_000, used: 0, windowSeconds: 3600, turnMs: 150 };

/**
 * Three hosts on accounts A, B and C: only the first can run out of A (its quota there is three
 * turns), and only it has the dedicated session `solo` to run the task that uses A up.
 */
export function threeHosts(names: readonly [string, string, string]): HostSpec[] {
  const plenty = (name: string): HostSpec => ({ name, accounts: [{ name: 'A', quota: BIG_QUOTA }, { name: 'B', quota: BIG_QUOTA }, { name: 'C', quota: BIG_QUOTA }] });
  return [
    { name: names[0], accounts: [{ name: 'A', quota: { limit: 3, used: 0, windowSeconds: 3600, turnMs: 150 } }, { name: 'B', quota: BIG_QUOTA }, { name: 'C', quota: BIG_QUOTA }], dedicated: ['solo'] },
    plenty(names[1]),
    plenty(names[2]),
  ];
}

export interface TestFleet {
  readonly hosts: FleetTestHost[];
  /** A client of the shared database (the test reads the fleet's tables through it). */
  readonly db: pg.Pool;
  close(): Promise<void>;
}

type FleetOptions = { url: string; telegramUrl: string; leaseMs: number; monitor?: Record<string, unknown>; spread?: boolean };

/** One host's sandbox (its home, tmux server and state dir under `root`), configured for the fleet's database. */
export function fleetHostSandbox(options: FleetOptions, spec: HostSpec, root: string, socket: string): Promise<Sandbox> {
  return createSandbox({
    root,
    socket,
    accounts: spec.accounts,
    autonomous: spec.autonomous ?? { min: 2, max: 2 },
    dedicated: spec.dedicated ?? [],
    overrides: {
      monitor: { pollIntervalMs: 300, cooldownMs: 0, returnMarginMs: 600_000, ...options.monitor },
      server: { listen: '127.0.0.1:0', token: FLEET_API_TOKEN },
      notify: { telegram: { botToken: '123456:TEST-TOKEN', chatId: '42', apiBase: options.telegramUrl } },
      store: { shared: { url: options.url, connectTimeoutMs: 2000 } },
      fleet: { host: spec.name, leaseMs: options.leaseMs, spread: options.spread === true },
    },
  });
}

/** Three (or more) hosts on one machine sharing one database, each a `claude-failover run` of its own. */
export async function startTestFleet(options: FleetOptions & { specs: readonly HostSpec[] }): Promise<TestFleet> {
  const roots: string[] = [];
  const hosts: FleetTestHost[] = [];
  const db = new pg.Pool({ connectionString: options.url, max: 2 });
  db.on('error', () => undefined);
  for (const spec of options.specs) {
    const root = await makeTempDir(`cf-fleet-${spec.name}`);
    roots.push(root);
    const socket = privateSocketName(`cf-fleet-${spec.name}`);
    const sandbox = await fleetHostSandbox(options, spec, root, socket);
    let store: Store | null = null;
    const host: FleetTestHost = {
      name: spec.name,
      sandbox,
      socket,
      logFile: join(root, 'daemon.log'),
      child: null,
      store: () => (store ??= openStore(sandbox.config.stateDir)),
      closeStore: () => {
        store?.close();
        store = null;
      },
      url: () => readFileSync(listeningPath(sandbox.config.stateDir), 'utf8').trim(),
      start: () => {
        const log = createWriteStream(host.logFile, { flags: 'a' });
        const child = spawnCli(['--config', sandbox.configFile, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout?.pipe(log);
        child.stderr?.pipe(log);
        host.child = child;
      },
      kill: async () => {
        const child = host.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exitOf(child, 10_000);
        }
        await killPrivateServer(socket);
      },
    };
    hosts.push(host);
  }
  const close = async () => {
    for (const host of hosts) {
      const child = host.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const exited = await exitOf(child, 20_000).then(() => true, () => false);
        if (!exited) child.kill('SIGKILL');
      }
      await killPrivateServer(host.socket).catch(() => undefined);
      host.closeStore();
    }
    await db.end().catch(() => undefined);
    for (const root of roots) await removeTempDir(root);
  };
  try {
    for (const host of hosts) host.start();
    for (const host of hosts) await waitFor(() => host.url(), { timeoutMs: 60_000, what: `${host.name} listening` });
  } catch (err) {
    await close();
    throw err;
  }
  return { hosts, db, close };
}

/** Sends a prompt to a pool session as a person would: the text, then Enter in a write of its own. */
export async function typeInto(socket: string, session: string, text: string, tmux: (socket: string, ...args: string[]) => string): Promise<void> {
  tmux(socket, 'send-keys', '-t', `=${session}:`, '-l', text);
  await new Promise((resolve) => setTimeout(resolve, 400));
  tmux(socket, 'send-keys', '-t', `=${session}:`, 'Enter');
}

export interface FleetFixture {
  /** The running fleet, its database and its Telegram stand-in; throws why the set-up failed. */
  ready(): { readonly fleet: TestFleet; readonly postgres: ThrowawayPostgres; readonly telegram: TelegramStandIn };
  host(i: number): FleetTestHost;
}

/**
 * A throwaway PostgreSQL, a Telegram stand-in and a fleet of `run` daemons for one describe
 * block, torn down after it. A set-up that fails (no PostgreSQL here) fails the test that calls
 * `ready()`, saying why: never a skipped suite.
 */
export function useTestFleet(name: string, options: { readonly leaseMs: number; readonly spread?: boolean; readonly specs: readonly HostSpec[] }): FleetFixture {
  let postgres: ThrowawayPostgres | undefined;
  let telegram: TelegramStandIn | undefined;
  let fleet: TestFleet | undefined;
  let setupError: Error | null = null;
  beforeAll(async () => {
    try {
      postgres = await startThrowawayPostgres(`${name}-pg`);
      telegram = await startTelegramStandIn();
      fleet = await startTestFleet({ url: postgres.url, telegramUrl: telegram.url, ...options });
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
    }
  }, 120_000);
  afterAll(async () => {
    await fleet?.close();
    await telegram?.close();
    await postgres?.destroy();
  }, 120_000);
  return {
    ready: () => {
      if (setupError) throw setupError;
      if (!fleet || !postgres || !telegram) throw new Error('the fleet set-up has not run');
      return { fleet, postgres, telegram };
    },
    host: (i) => {
      const h = fleet?.hosts[i];
      if (!h) throw new Error(`no host ${String(i)}`);
      return h;
    },
  };
}
