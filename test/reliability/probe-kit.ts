import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { E2e } from '../helpers/e2e-fixture.js';
import { waitForIdlePool } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait-for.js';

/** The probes' shared machinery: the daemon's log kept in memory, mounts, the promises every probe checks. */

/**
 * The pool every fault and bad-input probe starts from: accounts A and B (room for a real
 * limit later), one autonomous and one dedicated session, no cooldown between swaps.
 */
export function probeSandbox(e2e: E2e, extra: { readonly server?: { readonly listen: string; readonly token: string } } = {}): Promise<Sandbox> {
  return e2e.sandbox({
    accounts: [
      { name: 'A', quota: { limit: 1000, turnMs: 100 } },
      { name: 'B', quota: { limit: 1000, turnMs: 100 } },
    ],
    autonomous: { min: 1, max: 1 },
    dedicated: ['web'],
    monitor: { cooldownMs: 0 },
    ...extra,
  });
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A logger whose JSON lines the test reads back (what an operator would read in the journal). */
export function capturedLogger(): { logger: Logger; lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const raw of chunk.toString('utf8').split('\n')) {
        if (raw.trim() !== '') lines.push(JSON.parse(raw) as LogLine);
      }
      done();
    },
  });
  return { logger: createLogger({ pretty: false, level: 'debug', destination: sink }), lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

/** Runs a root-only system command; a refusal fails the probe with a message that says what was needed. */
export function privileged(command: string, args: readonly string[], why: string): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`${why}: \`${command} ${args.join(' ')}\` was refused (${stderr || String(err)}). These probes need root (CI runs them as root with e2fsprogs installed by .ci/run).`, { cause: err });
  }
}

/** Undoes a mount; a busy one is detached lazily so the temp dir can still be removed. */
export function unmount(path: string): void {
  try {
    execFileSync('umount', [path], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    execFileSync('umount', ['-l', path], { stdio: 'ignore', timeout: 10_000 });
  }
}

/**
 * Every transcript's lines now, to prove later that none was lost or cut. Regular files
 * only: a probe may put a FIFO or a directory where a transcript would be.
 */
export function snapshotTranscripts(sandbox: Sandbox): Map<string, string[]> {
  const root = join(sandbox.config.sharedDir, 'projects');
  const out = new Map<string, string[]>();
  for (const dir of readdirSync(root)) {
    for (const file of readdirSync(join(root, dir))) {
      const path = join(root, dir, file);
      if (file.endsWith('.jsonl') && lstatSync(path).isFile()) out.set(file.replace(/\.jsonl$/, ''), readFileSync(path, 'utf8').split('\n').filter(Boolean));
    }
  }
  return out;
}

/** Nothing deleted: every transcript seen before is still there and begins with every line it had. */
export function expectTranscriptsIntact(sandbox: Sandbox, before: Map<string, string[]>): void {
  const now = snapshotTranscripts(sandbox);
  for (const [id, lines] of before) {
    expect(now.has(id), `transcript ${id} still there`).toBe(true);
    expect(now.get(id)?.slice(0, lines.length), `transcript ${id} keeps its lines`).toEqual(lines);
  }
}

/** A pool where each session has a conversation (a transcript), idle at its prompt. */
export async function poolWithConversations(d: Daemon, names: readonly string[]): Promise<void> {
  await waitForIdlePool(d, names);
  for (const name of names) expect(await d.pool.sendPrompt(name, `Warm up ${name} [turns=1]`)).toBe(true);
  await waitFor(
    async () => {
      await d.tick();
      return names.every((n) => d.store.getSession(n)?.state === 'idle');
    },
    { timeoutMs: 30_000, what: 'every session answered its first prompt' },
  );
}

/**
 * The last promise of every probe: the account in use runs out for real (the fake says so in
 * its hook, transcript and screen), the daemon sees it and moves the pool. Returns the time
 * from the prompt to the swap's end.
 */
export async function realLimitIsSwapped(e2e: E2e, sandbox: Sandbox, session: string, timeoutMs = 60_000): Promise<{ from: string; to: string; ms: number }> {
  const d = e2e.daemon;
  const from = d.store.getActiveAccount() ?? '';
  await sandbox.setQuota(from, { limit: 0, used: 0, resetsAt: Math.floor(Date.now() / 1000) + 3600 });
  const swapsBefore = e2e.doneSwaps().length;
  const started = Date.now();
  await waitFor(() => d.pool.sendPrompt(session, 'One more step [turns=2]'), { timeoutMs: 30_000, what: `${session} takes the prompt that meets the limit` });
  await waitFor(() => e2e.doneSwaps().length > swapsBefore, { timeoutMs, what: `the swap away from ${from} after its real limit` });
  const swap = e2e.doneSwaps()[swapsBefore];
  expect(swap?.from).toBe(from);
  expect(d.store.listSwaps(1)[0]).toMatchObject({ from, result: 'done', trigger: 'limit' });
  return { from, to: swap?.to ?? '', ms: Date.now() - started };
}

/** The pool of probeSandbox. */
export const PROBE_POOL = ['auto-1', 'web'];

/** Bad input changed nothing: no swap, A not exhausted, every pool session idle. */
export function expectNothingChanged(e2e: E2e, d: Daemon): void {
  expect(e2e.outcomes).toEqual([]);
  expect(d.store.getLedgerEntry('A')?.exhausted ?? false).toBe(false);
  for (const n of PROBE_POOL) expect(d.store.getSession(n)?.state).toBe('idle');
}

/** Counts each try of each kind of bad input (and the slowest, when timed); the figure lists them all. */
export function badInputTallies() {
  const byKind = new Map<string, { runs: number; passes: number; maxMs: number | null }>();
  return {
    byKind,
    count(kind: string, ok: boolean, ms?: number): void {
      const t = byKind.get(kind) ?? { runs: 0, passes: 0, maxMs: null };
      t.runs++;
      if (ok) t.passes++;
      if (ms !== undefined) t.maxMs = Math.max(t.maxMs ?? 0, Math.round(ms));
      byKind.set(kind, t);
    },
    runs: () => [...byKind.values()].reduce((n, t) => n + t.runs, 0),
    passes: () => [...byKind.values()].reduce((n, t) => n + t.passes, 0),
    measured: (): Record<string, string> => Object.fromEntries([...byKind].map(([k, t]) => [k, `${String(t.passes)}/${String(t.runs)}${t.maxMs === null ? '' : ` (max ${String(t.maxMs)} ms)`}`])),
    failures: () => [...byKind].filter(([, t]) => t.passes !== t.runs).map(([k, t]) => `${k}: ${String(t.passes)}/${String(t.runs)}`),
  };
}
