import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { statSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { transcriptFor } from '../../src/pool/transcript-exists.js';
import { SHARED_NAMES } from '../../src/accounts/shared-links.js';
import { leftoverProbes } from '../../src/accounts/write-probe.js';
import { tmux, transcripts, userPrompts } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { waitFor } from '../helpers/wait-for.js';
import { killHard, openJournalStep, spawnDaemonProcess, transcriptIsWhole, whole, withStore } from './crash-kit.js';
import { FIGURES_FILE, recordFigure } from './figures.js';
import { seededRandom } from './seeded-random.js';

const RUNS = Number(process.env.CF_CRASH_RUNS ?? '50');
/** Kills land up to this long after the task's Enter: before the limit, through the swap (~1 s), after it. */
const MAX_OFFSET_MS = Number(process.env.CF_CRASH_MAX_OFFSET_MS ?? '1500');
const POOL = ['web', 'api'];
const TEST = 'test/reliability/crash-at-random.test.ts';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Invariant 6 and the continuation's promise, at random moments rather than at journal
 * steps: `web` works on a task that meets the active account's limit mid-way, `api` idles
 * with a conversation of its own; the daemon (a child process) is SIGKILLed at a random
 * offset and started again. Every run must end whole on the other account, with web's
 * conversation continued exactly once there and api's left alone, no transcript lost or cut.
 */
describe('reliability: SIGKILL at random moments of a limit swap (fake Claude Code)', () => {
  const e2e = useE2e('cf-crash-random', { once: true });
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 100000, turnMs: 100 } },
        { name: 'B', quota: { limit: 100000, turnMs: 100 } },
      ],
      dedicated: POOL,
      // No return during the probe: every swap is one a limit asked for.
      monitor: { returnMarginMs: 3_600_000 },
    });
  });

  it(`${String(RUNS)} runs: whole, continued exactly once on the new account, nothing lost`, async () => {
    const random = seededRandom('fake crash probe');
    const { config } = sandbox;
    const prompt = config.claude.resumePrompt;
    // The daemons' log outlives the sandbox, so a failed run can be read afterwards.
    const log = join(dirname(FIGURES_FILE), 'crash-at-random.daemon.log');
    writeFileSync(log, '');
    let child: ChildProcess = spawnDaemonProcess(sandbox.configFile, log);
    await waitFor(() => whole(config, POOL, { idle: true }), { timeoutMs: 60_000, what: 'the pool up' });
    // A conversation in each session, so both are resumed (not started fresh) by every swap.
    for (const name of POOL) await typePrompt(name, `hello from ${name}`);
    await waitFor(() => POOL.every((n) => userPrompts(transcriptOf(n)).length === 1) && whole(config, POOL, { idle: true }), { timeoutMs: 30_000, what: 'a conversation in each session' });
    const ids = sessionIds();

    const problems: string[] = [];
    const landed = new Map<string, number>();
    const repairedMs: number[] = [];
    let passes = 0;
    const started = Date.now();
    try {
      for (let run = 1; run <= RUNS; run++) {
        const from = await waitFor(() => whole(config, POOL, { idle: true }), { timeoutMs: 60_000, what: `run ${String(run)}: whole and idle` });
        const to = from === 'A' ? 'B' : 'A';
        const offset = random.between(0, MAX_OFFSET_MS);
        const limitRecords = () => transcriptOf('web').filter((l) => l.includes('"error":"rate_limit"')).length;
        const before = { limits: limitRecords(), web: userPrompts(transcriptOf('web')).length, api: userPrompts(transcriptOf('api')).length, sizes: sizes(), usedOnTarget: (await sandbox.readQuota(to)).used ?? 0 };
        // The target's last limit (two runs ago) has reset in the ledger too: the swap has somewhere to go.
        await waitFor(() => (withStore(config, (store) => store.getLedgerEntry(to)?.resetsAt?.getTime()) ?? 0) < Date.now(), { timeoutMs: 30_000, what: `${to} usable again` });
        // Turn 1 of the task is answered, turn 2 meets the limit. It resets in 6 s: long enough to stand when a
        // restart on a loaded machine reads it, short enough for the next run to come back.
        await sandbox.setQuota(to, { limit: 100000, used: 0, resetsAt: null });
        await sandbox.setQuota(from, { limit: 1000, used: 999, resetsAt: Math.floor(Date.now() / 1000) + 6 });
        before.usedOnTarget = 0;
        await typePrompt('web', `TASK-${String(run)} [turns=3]`);
        const typedAt = Date.now();
        await waitFor(() => Date.now() >= typedAt + offset, { timeoutMs: 10_000, intervalMs: 5, what: 'the kill moment' });
        await killHard(child);
        const where = openJournalStep(config) ?? (withStore(config, (store) => store.getActiveAccount()) === to ? 'after-commit' : 'before-journal');
        landed.set(where, (landed.get(where) ?? 0) + 1);
        const restartedAt = Date.now();
        child = spawnDaemonProcess(sandbox.configFile, log);
        const failures: string[] = [];
        try {
          await waitFor(async () => (await whole(config, POOL)) === to, { timeoutMs: 60_000, what: `run ${String(run)} (killed ${where}): whole on ${to}` });
          repairedMs.push(Date.now() - restartedAt);
          // web's conversation continues on `to` and is answered there; api is never prompted.
          await waitFor(() => transcriptOf('web').slice(-1)[0]?.includes('done.') && userPrompts(transcriptOf('web')).at(-1) === prompt, { timeoutMs: 30_000, what: `run ${String(run)}: web's continuation answered` });
          await waitFor(() => whole(config, POOL, { idle: true }), { timeoutMs: 30_000, what: `run ${String(run)}: idle again` });
          const webPrompts = userPrompts(transcriptOf('web')).slice(before.web);
          if (webPrompts.filter((p) => p === prompt).length !== 1) failures.push(`web got ${String(webPrompts.filter((p) => p === prompt).length)} continuations: ${JSON.stringify(webPrompts)}`);
          if (webPrompts.some((p) => p.startsWith('[Request interrupted'))) failures.push('the continuation was interrupted');
          const apiPrompts = userPrompts(transcriptOf('api')).slice(before.api);
          if (apiPrompts.length > 0) failures.push(`api (idle) was prompted: ${JSON.stringify(apiPrompts)}`);
          if (((await sandbox.readQuota(to)).used ?? 0) <= before.usedOnTarget) failures.push(`nothing was answered on ${to}`);
          const now = sizes();
          for (const [file, size] of before.sizes) if ((now.get(file) ?? -1) < size) failures.push(`${file} shrank`);
          for (const name of POOL) {
            const path = transcriptPath(name);
            if (!path || !transcriptIsWhole(path)) failures.push(`${name}'s transcript is cut`);
          }
          if (JSON.stringify(sessionIds()) !== JSON.stringify(ids)) failures.push(`conversations changed: ${JSON.stringify(sessionIds())}`);
          // A kill while the target was being proven writable leaves a probe file; the repair's own probe removes it.
          const home = config.accounts.find((a) => a.name === to)?.home ?? '';
          const probes = (await Promise.all([home, ...SHARED_NAMES.map((n) => join(config.sharedDir, n))].map(leftoverProbes))).flat();
          if (probes.length > 0) failures.push(`probe files left behind: ${probes.join(', ')}`);
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
          if (limitRecords() === before.limits) failures.push('the task never met the limit (a probe fault, not a recovery one)');
        }
        if (failures.length === 0) passes += 1;
        else problems.push(`run ${String(run)} (seed ${String(random.seed)}, killed ${String(offset)} ms after the task, ${where}): ${failures.join('; ')}`);
        if (failures.some((f) => f.startsWith('timed out'))) break;
      }
    } finally {
      recordFigure({
        probe: 'SIGKILL at a random moment of a limit swap, fake Claude Code',
        test: TEST,
        runs: RUNS,
        passes,
        measured: {
          seed: random.seed,
          maxOffsetMs: MAX_OFFSET_MS,
          killedDuring: [...landed].map(([step, n]) => `${step}:${String(n)}`).join(' '),
          repairedMsP50: percentile(repairedMs, 50),
          repairedMsMax: Math.max(0, ...repairedMs),
          wallS: Math.round((Date.now() - started) / 1000),
        },
      });
      await killHard(child);
    }
    if (problems.length > 0) process.stderr.write(`\nthe daemons' log: ${log}\n`);
    expect(problems).toEqual([]);
  });

  async function typePrompt(name: string, text: string): Promise<void> {
    tmux(e2e.socket, 'send-keys', '-t', `=${name}:`, '-l', text);
    await waitFor(() => tmux(e2e.socket, 'capture-pane', '-p', '-t', `=${name}:`).includes(text), { timeoutMs: 10_000, what: `"${text}" in ${name}'s input line` });
    tmux(e2e.socket, 'send-keys', '-t', `=${name}:`, 'Enter');
  }

  function sessionIds(): Record<string, string | null> {
    return withStore(sandbox.config, (store) => Object.fromEntries(POOL.map((n) => [n, store.getSession(n)?.sessionId ?? null])));
  }

  function transcriptPath(name: string): string | null {
    const record = withStore(sandbox.config, (store) => store.getSession(name));
    return record?.sessionId && record.cwd ? transcriptFor(sandbox.config.accounts[0]?.home ?? '', record.cwd, record.sessionId) : null;
  }

  function transcriptOf(name: string): string[] {
    const id = withStore(sandbox.config, (store) => store.getSession(name)?.sessionId);
    return id ? (transcripts(sandbox).get(id) ?? []) : [];
  }

  function sizes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const name of POOL) {
      const path = transcriptPath(name);
      if (path) out.set(join(name, path), statSync(path).size);
    }
    return out;
  }
});

