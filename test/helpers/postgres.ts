import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { makeTempDir, removeTempDir } from './temp-dir.js';

/**
 * A throwaway PostgreSQL cluster in a temp dir, for the fleet's tests: initdb, then the
 * server on a free 127.0.0.1 port, found by URL. Nothing outside the temp dir is touched.
 * PostgreSQL refuses to run as root (CI and this machine's sessions are root): there the
 * cluster belongs to `nobody` and every server command runs under that user (setpriv).
 */
export interface ThrowawayPostgres {
  /** `postgresql://fleet:…@127.0.0.1:<port>/postgres` (the password shows the URL is never printed). */
  readonly url: string;
  readonly port: number;
  /** A URL for another database on the same server. */
  urlFor(database: string): string;
  /** Stops the server (the cluster stays: `start` brings it back on the same port). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes the temp dir. */
  destroy(): Promise<void>;
}

export const TEST_PG_PASSWORD = 'fleet-secret-pw';

/** Where Debian puts the server binaries (not on PATH), then PATH. */
export function findPostgresBin(): string | null {
  const candidates: string[] = [];
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(debian, v, 'bin'));
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

export const NO_POSTGRES_MESSAGE =
  'PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in /usr/lib/postgresql/<version>/bin or on PATH: install Debian\'s "postgresql" package (.ci/run does), or set CF_TEST_PG_URL to a database the tests may use';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

/** A server command, as `nobody` when we are root. */
function command(bin: string, name: string, args: readonly string[]): [string, string[]] {
  const file = join(bin, name);
  return asRoot ? ['setpriv', [`--reuid=${String(NOBODY.uid)}`, `--regid=${String(NOBODY.gid)}`, '--clear-groups', file, ...args]] : [file, [...args]];
}

function run(bin: string, name: string, args: readonly string[], timeoutMs = 60_000): Promise<void> {
  const [file, argv] = command(bin, name, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${name} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

export async function startThrowawayPostgres(label = 'cf-pg'): Promise<ThrowawayPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(NO_POSTGRES_MESSAGE);
  const dir = await makeTempDir(label);
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  mkdirSync(sockets);
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, TEST_PG_PASSWORD + '\n', { mode: 0o600 });
  if (asRoot) for (const path of [dir, sockets, pwfile]) chownSync(path, NOBODY.uid, NOBODY.gid);
  await run(bin, 'initdb', ['-D', data, '-U', 'fleet', '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  let server: ChildProcess | null = null;

  const start = async () => {
    const [file, argv] = command(bin, 'postgres', ['-D', data, '-p', String(port), '-k', sockets, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200']);
    const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => { log = (log + chunk.toString('utf8')).slice(-4000); });
    server = child;
    const deadline = Date.now() + 30_000;
    while (!log.includes('ready to accept connections')) {
      if (child.exitCode !== null) throw new Error(`postgres exited at start: ${log}`);
      if (Date.now() > deadline) throw new Error(`postgres did not become ready in 30 s: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected at once.
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  const urlFor = (database: string) => `postgresql://fleet:${TEST_PG_PASSWORD}@127.0.0.1:${String(port)}/${database}`;
  return {
    url: urlFor('postgres'),
    port,
    urlFor,
    stop,
    start,
    destroy: async () => {
      await stop();
      await removeTempDir(dir);
    },
  };
}
