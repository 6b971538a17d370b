import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { transcriptFor } from '../../src/pool/transcript-exists.js';
import { tmux } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait-for.js';
import { killHard, openJournalStep, spawnDaemonProcess, transcriptIsWhole, whole, withStore } from '../reliability/crash-kit.js';
import { recordFigure } from '../reliability/figures.js';
import { seededRandom } from '../reliability/seeded-random.js';
import { includesPrompt, mainClaude, nowSeconds, startRealSandbox, timesInPrompt, tokenOf, waitForIdle, waitForTurn, type RealSandbox } from './helpers.js';

const RUNS = 5;
/** Kills land this long after the limit's 429 left the stand-in, at most (a real swap of one session takes ~1 s). */
const MAX_OFFSET_MS = 1000;
const TEST = 'test/real-claude/reliability-crash.test.ts';

/** Types a prompt into a pane as a person would: the text, then Enter once it shows. */
async function typePrompt(sandbox: RealSandbox, name: string, text: string): Promise<void> {
  tmux(sandbox.socket, 'send-keys', '-t', `=${name}:`, '-l', text);
  await waitFor(() => sandbox.screen(name).replace(/\s+/g, '').includes(text.replace(/\s+/g, '')), { timeoutMs: 10_000, what: `"${text}" in ${name}'s input line` });
  tmux(sandbox.socket, 'send-keys', '-t', `=${name}:`, 'Enter');
}

/** What reached the stand-in (the daemon that could say more is a child process with its own log). */
function requestLog(sandbox: RealSandbox): string {
  return sandbox.turns().map((r) => `  ${new Date(r.at).toISOString()} ${r.token ?? '-'} session=${r.sessionId ?? '-'} → ${r.reply} ${String(r.status)} last=${JSON.stringify(r.lastUserText.slice(-80))}`).join('\n');
}

describe('reliability: the daemon SIGKILLed at a random moment of a limit swap, then started again (real Claude Code)', () => {
  it(`${String(RUNS)} random offsets: link, shared links, active account, journal and pool whole; the conversation continued once on the new account`, async () => {
    const random = seededRandom('real-CLI crash probe');
    // No return during the probe: every swap is one a limit asked for.
    const sandbox = await startRealSandbox({ claude: mainClaude(), accounts: ['alpha', 'beta'], dedicated: ['web'], monitor: { returnMarginMs: 3_600_000 } });
    try {
      const { config, standIn } = sandbox;
      const prompt = config.claude.resumePrompt;
      await waitForIdle(sandbox, ['web']);
      expect(await sandbox.daemon.pool.sendPrompt('web', 'Say hello to the parser')).toBe(true);
      await waitForTurn(sandbox, 'the first exchange', (r) => includesPrompt(r, 'Say hello to the parser'));
      await waitForIdle(sandbox, ['web']);
      const id = sandbox.sessionIdOf('web');
      const transcript = transcriptFor(config.accounts[0]?.home ?? '', join(config.pool.dedicated[0]?.project ?? ''), id);
      // From here the daemon is a child process that can be killed.
      await sandbox.daemon.stop();
      const configFile = join(sandbox.root, 'config.yaml');
      const log = join(sandbox.root, 'daemon-child.log');
      let child: ChildProcess = spawnDaemonProcess(configFile, log);
      const problems: string[] = [];
      const landed: string[] = [];
      const recoveredMs: number[] = [];
      let passes = 0;
      try {
        for (let run = 1; run <= RUNS; run++) {
          const from = await waitFor(() => whole(config, ['web'], { idle: true }), { timeoutMs: 60_000, what: `run ${String(run)}: whole and idle before the limit` });
          const to = from === 'alpha' ? 'beta' : 'alpha';
          const task = `TASK-${String(run)}: refactor the parser`;
          const offset = random.between(0, MAX_OFFSET_MS);
          const sizeBefore = transcript ? (await import('node:fs')).statSync(transcript).size : 0;
          // The target's last limit (two runs ago) has reset in the ledger too: the swap has somewhere to go.
          await waitFor(() => (withStore(config, (store) => store.getLedgerEntry(to)?.resetsAt?.getTime()) ?? 0) < Date.now(), { timeoutMs: 60_000, what: `${to} usable again` });
          // The task runs 1.5 s on `from`, then meets its 5-hour limit. It resets in 30 s: long enough to
          // stand when a restart on a loaded machine reads it (one took 10 s; a limit gone by then is
          // rightly not swapped for), short enough for the next run but one to come back to it.
          standIn.addRule(tokenOf(from), { match: (r) => r.hasTools && includesPrompt(r, task), reply: { kind: 'limit', claim: 'five_hour', resetsAt: nowSeconds() + 30, delayMs: 1500 } });
          await typePrompt(sandbox, 'web', task);
          const limited = await waitForTurn(sandbox, `run ${String(run)}: the task on ${from}`, (r) => r.token === tokenOf(from) && includesPrompt(r, task), 30_000);
          const limitAt = limited.at + 1500;
          await waitFor(() => Date.now() >= limitAt + offset, { timeoutMs: 30_000, intervalMs: 5, what: 'the kill moment' });
          await killHard(child);
          landed.push(`${String(offset)}ms:${openJournalStep(config) ?? (withStore(config, (store) => store.getActiveAccount()) === to ? 'after-commit' : 'before-journal')}`);
          const restartedAt = Date.now();
          child = spawnDaemonProcess(configFile, log);
          const failures: string[] = [];
          try {
            // A kill before the swap began leaves the limit standing in the transcript: the restart moves the pool then.
            await waitFor(async () => (await whole(config, ['web'])) === to, { timeoutMs: 90_000, what: `run ${String(run)}: whole on ${to} after the restart` });
            recoveredMs.push(Date.now() - restartedAt);
            const continuation = await waitForTurn(sandbox, `run ${String(run)}: the continuation on ${to}`, (r) => r.at > limited.at && r.token === tokenOf(to) && r.sessionId === id && includesPrompt(r, prompt), 60_000).catch(() => null);
            if (!continuation) failures.push(`no continuation on ${to}`);
            else if (timesInPrompt(continuation, prompt) !== 1) failures.push('the continuation typed twice into one input');
            await waitFor(() => whole(config, ['web'], { idle: true }), { timeoutMs: 60_000, what: `run ${String(run)}: idle after the continuation` });
            const continuations = sandbox.turns({ sessionId: id }).filter((r) => r.at > limited.at && r.lastUserText.includes(prompt));
            if (continuations.length > 1) failures.push(`${String(continuations.length)} continuations`);
            if (continuations.some((r) => r.token !== tokenOf(to))) failures.push(`a continuation on ${from}`);
            const record = withStore(config, (store) => store.getSession('web'));
            if (record?.sessionId !== id) failures.push(`web's conversation is ${record?.sessionId ?? 'none'}, not ${id}`);
            if (transcript && ((await import('node:fs')).statSync(transcript).size < sizeBefore || !transcriptIsWhole(transcript))) failures.push('the transcript shrank or was cut');
          } catch (err) {
            failures.push(err instanceof Error ? err.message : String(err));
          }
          if (failures.length === 0) passes += 1;
          else problems.push(`run ${String(run)} (seed ${String(random.seed)}, kill ${landed.at(-1) ?? ''}): ${failures.join('; ')}`);
          if (failures.some((f) => f.includes('timed out'))) break;
        }
      } finally {
        recordFigure({
          probe: 'SIGKILL at a random moment of a limit swap, real Claude Code',
          test: TEST,
          runs: RUNS,
          passes,
          measured: { seed: random.seed, maxOffsetMs: MAX_OFFSET_MS, killedAt: landed.join(' '), recoveredMsMax: Math.max(0, ...recoveredMs), recoveredMsMin: recoveredMs.length > 0 ? Math.min(...recoveredMs) : 0 },
        });
        await killHard(child);
        if (problems.length > 0) process.stderr.write(`\n${problems.join('\n')}\n=== child daemon log: ${log}\n${requestLog(sandbox)}\n`);
      }
      expect(problems).toEqual([]);
    } finally {
      await sandbox.close();
    }
  }, 480_000);
});
