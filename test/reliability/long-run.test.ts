import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { openStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import { PARTIAL_SWAP_FLAG } from '../../src/switcher/types.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { exitOf } from '../helpers/cli.js';
import { tmux } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait-for.js';
import { FIGURES_FILE, recordFigure } from './figures.js';
import { lingeringZombies, median, sampleProcess, tmuxClientCount, type ProcessSample } from './process-sample.js';

/**
 * Probe 6: 20 sessions under churn for CLAUDE_FAILOVER_LONG_RUN_MINUTES (4 by default, the CI
 * form; 30 or more when asked), with one daemon process throughout, sampled every few seconds.
 * Churn: prompts typed into idle sessions and answered, account A running out every minute or
 * so (a swap to B), its window resetting (a return to A), single sessions killed or their tmux
 * session removed (the daemon restarts them).
 */
const MINUTES = Number(process.env.CLAUDE_FAILOVER_LONG_RUN_MINUTES ?? '4');
const RUN_MS = Math.max(1, MINUTES) * 60_000;
/** Samples before this are the warm-up: the baseline every bound is measured from. */
const WARM_UP_MS = Math.max(90_000, RUN_MS * 0.25);
const SAMPLE_EVERY_MS = 5_000;
const RESTART_EVERY_MS = 20_000;

/**
 * The bounds, relative to the warm-up baseline (see docs/RELIABILITY.md, section 6). A swap
 * relaunches 20 sessions at once, so descriptors and children peak during it and fall back
 * after: a leak shows as the median (or the fewest seen) rising, so those are held to the
 * baseline, and the peaks only to a ceiling.
 */
export const LONG_RUN_BOUNDS = {
  /** The median RSS of the last quarter minus the warm-up's median. */
  rssGrowthMiB: 48,
  /** The median of open descriptors in the last quarter minus the warm-up's median. */
  fdGrowth: 4,
  /** Open descriptors at any sample (a swap's tmux calls in flight each hold pipes). */
  fdPeak: 200,
  /** The fewest direct children in the last quarter minus the warm-up's median (its control client). */
  childrenFloorGrowth: 0,
  /** Direct children at any sample (a swap's tmux calls in flight, its control client). */
  childrenPeak: 60,
  /** tmux clients at any sample after the warm-up, over the warm-up's most (the control client). */
  tmuxClientGrowth: 0,
  /** A zombie of the daemon's tree that outlives one sampling interval. */
  lingeringZombies: 0,
  /**
   * A zombie pane process tmux leaves unreaped for two intervals (10 s) or more: a leak. One
   * reaped within that is a figure (a tmux server busy with fifty captures a second reaps late).
   */
  tmuxLeakedZombies: 0,
} as const;

const DEDICATED = ['web', 'api', 'docs', 'ops'];
const AUTONOMOUS = 16;
const POOL = [...Array.from({ length: AUTONOMOUS }, (_, i) => `auto-${String(i + 1)}`), ...DEDICATED];

const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('a long run: 20 sessions under churn, one daemon process, its resources sampled', () => {
  const e2e = useE2e('cf-long');

  it(`${String(MINUTES)} minutes of prompts, limits, swaps, returns and session restarts: no growth beyond the bounds, no zombie, no leaked tmux client`, async () => {
    const sandbox: Sandbox = await e2e.sandbox({
      accounts: [
        // A runs out after 30 turns and its window resets 75 s after it began: a swap and a return a cycle.
        { name: 'A', quota: { limit: 30, windowSeconds: 75, turnMs: 150 } },
        { name: 'B', quota: { limit: 1_000_000, turnMs: 150 } },
      ],
      autonomous: { min: AUTONOMOUS, max: AUTONOMOUS },
      dedicated: DEDICATED,
      monitor: { cooldownMs: 0, returnMarginMs: 1000 },
    });
    const daemon = e2e.spawnDaemon(sandbox);
    const pid = daemon.pid ?? -1;
    const socketPath = daemonSocketPath(sandbox.config);
    const store: Store = openStore(sandbox.config.stateDir);
    try {
      const poolUp = () => {
        const sessions = store.listSessions();
        return POOL.every((n) => sessions.some((s) => s.name === n && s.state === 'idle' && s.account !== null));
      };
      await waitFor(poolUp, { timeoutMs: 120_000, intervalMs: 500, what: 'the 20 sessions up and idle' });

      const startedAt = Date.now();
      const samples: ProcessSample[] = [];
      const counts = { prompts: 0, sessionKills: 0, tmuxSessionKills: 0 };
      let nextSample = 0;
      let nextRestart = RESTART_EVERY_MS;
      while (Date.now() - startedAt < RUN_MS) {
        const elapsed = Date.now() - startedAt;
        if (elapsed >= nextSample) {
          samples.push(sampleProcess(pid, e2e.socket, startedAt));
          nextSample += SAMPLE_EVERY_MS;
        }
        // Prompts: one or two idle sessions each second, each a task of 1 to 3 turns.
        const active = store.getActiveAccount();
        const idle = store.listSessions().filter((s) => POOL.includes(s.name) && s.state === 'idle' && s.account === active);
        for (let i = 0; i < 2; i++) {
          const session = pick(idle);
          if (!session) break;
          const text = `churn ${String(counts.prompts)} [turns=${String(1 + Math.floor(Math.random() * 3))}]`;
          try {
            tmux(e2e.socket, 'send-keys', '-t', `=${session.name}:`, '-l', text);
            tmux(e2e.socket, 'send-keys', '-t', `=${session.name}:`, 'Enter');
            counts.prompts += 1;
          } catch {
            // the session is being restarted: churn, not a fault
          }
        }
        // Restarts of single sessions: its Claude Code killed, or its whole tmux session removed.
        if (elapsed >= nextRestart) {
          nextRestart += RESTART_EVERY_MS;
          const name = pick(POOL) ?? 'web';
          try {
            if ((counts.sessionKills + counts.tmuxSessionKills) % 2 === 0) {
              const panePid = Number(tmux(e2e.socket, 'display-message', '-p', '-t', `=${name}:`, '#{pane_pid}').trim());
              process.kill(panePid, 'SIGKILL');
              counts.sessionKills += 1;
            } else {
              tmux(e2e.socket, 'kill-session', '-t', `=${name}`);
              counts.tmuxSessionKills += 1;
            }
          } catch {
            // already gone: the daemon is bringing it back
          }
        }
        expect(daemon.exitCode, 'the daemon is still running').toBeNull();
        await sleep(1000);
      }
      samples.push(sampleProcess(pid, e2e.socket, startedAt));

      // The churn stops: the daemon settles, every session back, nothing half done.
      await waitFor(
        async () => {
          const answered = await sendRequest(socketPath, 'ping', null, { timeoutMs: 2000 }).catch(() => null);
          return answered !== null && store.unfinishedJournal() === null && poolUp();
        },
        { timeoutMs: 180_000, intervalMs: 1000, what: 'the pool settled after the churn' },
      );
      expect(store.getFlag(PARTIAL_SWAP_FLAG).set).toBe(false);
      const panes = tmux(e2e.socket, 'list-panes', '-a', '-F', '#{session_name} #{pane_dead}');
      for (const name of POOL) expect(panes).toContain(`${name} 0`);

      const swaps = store.listSwaps(100_000).filter((s) => s.at.getTime() >= startedAt);
      const restarts = store.listSessions().reduce((sum, s) => sum + s.restarts, 0);

      const warmUp = samples.filter((s) => s.atMs < WARM_UP_MS);
      const after = samples.filter((s) => s.atMs >= WARM_UP_MS);
      const lastQuarter = samples.filter((s) => s.atMs >= RUN_MS * 0.75);
      const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
      const baselineRss = median(warmUp.map((s) => s.rssKiB));
      const finalRss = median(lastQuarter.map((s) => s.rssKiB));
      const floor = (of: readonly ProcessSample[], read: (s: ProcessSample) => number) => Math.min(...of.map(read));
      const peak = (of: readonly ProcessSample[], read: (s: ProcessSample) => number) => Math.max(...of.map(read));
      const fdGrowth = median(lastQuarter.map((s) => s.fds)) - median(warmUp.map((s) => s.fds));
      const childrenFloorGrowth = floor(lastQuarter, (s) => s.children) - median(warmUp.map((s) => s.children));
      const tmuxClientGrowth = peak(after, (s) => s.tmuxClients) - peak(warmUp, (s) => s.tmuxClients);
      const zombies = lingeringZombies(samples);
      const tmuxLeaked = lingeringZombies(samples, 'tmux', 3);
      const tmuxLate = lingeringZombies(samples, 'tmux', 2).filter((pid) => !tmuxLeaked.includes(pid));
      const ownerOf = (pid: number) => samples.find((s) => s.zombieParents[pid])?.zombieParents[pid] ?? '?';
      mkdirSync(dirname(FIGURES_FILE), { recursive: true });
      writeFileSync(join(dirname(FIGURES_FILE), `long-run-${String(MINUTES)}min-samples.json`), JSON.stringify(samples));

      // The daemon stops cleanly and leaves no tmux client behind.
      daemon.kill('SIGTERM');
      const exit = await exitOf(daemon, 60_000);
      const clientsAfterExit = tmuxClientCount(e2e.socket);

      const measured = {
        minutes: MINUTES,
        sessions: POOL.length,
        samples: samples.length,
        prompts: counts.prompts,
        swapsDone: swaps.filter((s) => s.result === 'done').length,
        swapsByLimit: swaps.filter((s) => s.result === 'done' && (s.trigger === 'limit' || s.trigger === 'proactive')).length,
        returns: swaps.filter((s) => s.result === 'done' && s.trigger === 'return').length,
        swapsNotDone: swaps.filter((s) => s.result !== 'done').length,
        sessionKills: counts.sessionKills,
        tmuxSessionKills: counts.tmuxSessionKills,
        sessionRestarts: restarts,
        baselineRssMiB: mib(baselineRss),
        finalRssMiB: mib(finalRss),
        peakRssMiB: mib(peak(samples, (s) => s.rssKiB)),
        rssGrowthMiB: mib(finalRss - baselineRss),
        rssGrowthBoundMiB: LONG_RUN_BOUNDS.rssGrowthMiB,
        fdsMedianWarmUp: median(warmUp.map((s) => s.fds)),
        fdsMedianFinal: median(lastQuarter.map((s) => s.fds)),
        fdGrowth,
        fdGrowthBound: LONG_RUN_BOUNDS.fdGrowth,
        fdsFinalFloor: floor(lastQuarter, (s) => s.fds),
        fdPeak: peak(samples, (s) => s.fds),
        fdPeakBound: LONG_RUN_BOUNDS.fdPeak,
        childrenFloorGrowth,
        childrenFloorGrowthBound: LONG_RUN_BOUNDS.childrenFloorGrowth,
        childrenPeak: peak(samples, (s) => s.children),
        childrenPeakBound: LONG_RUN_BOUNDS.childrenPeak,
        lingeringZombies: zombies.length,
        zombieParents: zombies.map(ownerOf).join(' ') || 'none',
        tmuxLeakedZombies: tmuxLeaked.length,
        tmuxZombiesReapedLate: tmuxLate.length,
        tmuxZombieParents: [...tmuxLeaked, ...tmuxLate].map(ownerOf).join(' ') || 'none',
        tmuxClientsWarmUp: peak(warmUp, (s) => s.tmuxClients),
        tmuxClientsPeakAfter: peak(after, (s) => s.tmuxClients),
        tmuxClientsAfterExit: clientsAfterExit,
        daemonExitCode: exit.code ?? `signal ${String(exit.signal)}`,
      };
      const checks = [
        measured.rssGrowthMiB <= LONG_RUN_BOUNDS.rssGrowthMiB,
        fdGrowth <= LONG_RUN_BOUNDS.fdGrowth,
        measured.fdPeak <= LONG_RUN_BOUNDS.fdPeak,
        childrenFloorGrowth <= LONG_RUN_BOUNDS.childrenFloorGrowth,
        measured.childrenPeak <= LONG_RUN_BOUNDS.childrenPeak,
        tmuxClientGrowth <= LONG_RUN_BOUNDS.tmuxClientGrowth,
        zombies.length === 0,
        tmuxLeaked.length === 0,
        clientsAfterExit === 0,
        exit.code === 0,
      ];
      recordFigure({ probe: `long run, ${String(MINUTES)} minutes, 20 sessions under churn`, test: 'test/reliability/long-run.test.ts', runs: 1, passes: checks.every(Boolean) ? 1 : 0, measured });

      expect(measured.swapsByLimit, 'A ran out at least once').toBeGreaterThanOrEqual(1);
      expect(measured.returns, 'and the pool came back to A').toBeGreaterThanOrEqual(1);
      expect(measured.rssGrowthMiB).toBeLessThanOrEqual(LONG_RUN_BOUNDS.rssGrowthMiB);
      expect(fdGrowth).toBeLessThanOrEqual(LONG_RUN_BOUNDS.fdGrowth);
      expect(measured.fdPeak).toBeLessThanOrEqual(LONG_RUN_BOUNDS.fdPeak);
      expect(childrenFloorGrowth).toBeLessThanOrEqual(LONG_RUN_BOUNDS.childrenFloorGrowth);
      expect(measured.childrenPeak).toBeLessThanOrEqual(LONG_RUN_BOUNDS.childrenPeak);
      expect(tmuxClientGrowth).toBeLessThanOrEqual(LONG_RUN_BOUNDS.tmuxClientGrowth);
      expect(zombies.map((pid) => `zombie ${String(pid)} of ${ownerOf(pid)}`)).toEqual([]);
      expect(tmuxLeaked.map((pid) => `pane zombie ${String(pid)} of ${ownerOf(pid)}, unreaped for 10 s`)).toEqual([]);
      expect(clientsAfterExit).toBe(0);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      store.close();
    }
  }, RUN_MS + 15 * 60_000);
});
