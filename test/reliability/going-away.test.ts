import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import type { Daemon } from '../../src/daemon.js';
import { fakeClaudePath } from '../../src/demo/sandbox.js';
import { QUICK_DEATH_MS } from '../../src/pool/backoff.js';
import { tmux, transcripts } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { waitFor } from '../helpers/wait-for.js';
import { recordFigure } from './figures.js';
import { capturedLogger, probeSandbox, expectTranscriptsIntact, poolWithConversations, realLimitIsSwapped, snapshotTranscripts } from './probe-kit.js';

const TEST = 'test/reliability/going-away.test.ts';
const POOL = ['auto-1', 'web'];

describe('tmux and Claude Code going away (real tmux on a private socket, fake Claude Code, in-process daemon)', () => {
  const e2e = useE2e('cf-away', { telegram: true });

  async function setUp(claudeCommand?: string) {
    const sandbox = await probeSandbox(e2e);
    const config: Config = claudeCommand ? { ...sandbox.config, claude: { ...sandbox.config.claude, command: claudeCommand } } : sandbox.config;
    const log = capturedLogger();
    const d = await e2e.startDaemon({ config }, { logger: log.logger });
    await poolWithConversations(d, POOL);
    return { sandbox, d, log, ids: new Map(POOL.map((n) => [n, d.store.getSession(n)?.sessionId ?? ''])) };
  }

  /** The pane's process now: its pid and its command line (after the launch line's `exec`, claude itself). */
  const paneProcess = (name: string): { pid: string; args: string } => {
    const pid = tmux(e2e.socket, 'display-message', '-p', '-t', `=${name}:`, '#{pane_pid}').trim();
    return { pid, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') };
  };

  /** Every session idle again in a new process that resumed its own conversation. */
  const backWithConversations = async (d: Daemon, ids: Map<string, string>, oldPids: Map<string, string>, what: string) =>
    waitFor(
      () => {
        for (const name of oldPids.keys()) {
          const s = d.store.getSession(name);
          const now = paneProcess(name);
          if (s?.state !== 'idle' || s.sessionId !== ids.get(name) || now.pid === oldPids.get(name) || !now.args.includes(`--resume ${ids.get(name) ?? ''}`)) {
            throw new Error(`${name}: ${JSON.stringify({ state: s?.state, sessionId: s?.sessionId, want: ids.get(name), pid: now.pid, old: oldPids.get(name), args: now.args })}`);
          }
        }
        return true;
      },
      { timeoutMs: 30_000, what },
    );

  it('the user runs tmux kill-server under the daemon: the pool comes back with every conversation resumed, /healthz says it meanwhile, a later real limit is swapped', async () => {
    const { sandbox, d, ids } = await setUp();
    const before = snapshotTranscripts(sandbox);
    const runs = 3;
    const backMs: number[] = [];
    let passes = 0;
    let unhealthySeen = 0;
    for (let run = 0; run < runs; run++) {
      const pids = new Map(POOL.map((n) => [n, paneProcess(n).pid]));
      const started = Date.now();
      tmux(e2e.socket, 'kill-server');
      // Between the kill and the relaunch, /healthz says the pool is gone (unless the relaunch already won).
      const health = await d.health();
      if (!health.healthy && /no pool session|tmux/.test(health.reasons.join(' '))) unhealthySeen++;
      await backWithConversations(d, ids, pids, `the pool back after kill-server #${run + 1}`);
      backMs.push(Date.now() - started);
      passes++;
    }
    expect((await d.health()).healthy).toBe(true);
    expectTranscriptsIntact(sandbox, before);
    const webFile = before.get(ids.get('web') ?? '')?.length ?? 0;
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    // The later prompt went on in the same conversation: its transcript grew, no new one for web.
    expect(transcripts(sandbox).get(ids.get('web') ?? '')?.length ?? 0).toBeGreaterThan(webFile);
    recordFigure({ probe: 'tmux kill-server under the daemon', test: TEST, runs, passes, measured: { maxBackMs: Math.max(...backMs), medianBackMs: backMs.sort((a, b) => a - b)[1] ?? 0, healthSaidSo: unhealthySeen, laterLimitToSwapMs: limit.ms } });
    expect(passes).toBe(runs);
  });

  it('a pane killed by hand (kill-session, kill-pane, SIGKILL of claude): relaunched at once with its conversation, no alarm; a later real limit is swapped', async () => {
    const { sandbox, d, ids } = await setUp();
    const before = snapshotTranscripts(sandbox);
    const kills: { how: string; name: string; kill: () => void }[] = [
      { how: 'kill-session', name: 'web', kill: () => tmux(e2e.socket, 'kill-session', '-t', '=web') },
      { how: 'kill-pane', name: 'auto-1', kill: () => tmux(e2e.socket, 'kill-pane', '-t', '=auto-1:') },
      { how: 'SIGKILL', name: 'web', kill: () => { process.kill(Number(paneProcess('web').pid), 'SIGKILL'); } },
    ];
    const backMs: number[] = [];
    let passes = 0;
    for (const { how, name, kill } of kills) {
      // A death within QUICK_DEATH_MS of a launch is a failed launch (backoff, an alert): this probe is the other case.
      await waitFor(() => Date.now() - (d.store.getSession(name)?.launchedAt?.getTime() ?? Date.now()) >= QUICK_DEATH_MS, { timeoutMs: QUICK_DEATH_MS + 5000, what: `${name}'s launch older than ${QUICK_DEATH_MS} ms` });
      const pids = new Map(POOL.map((n) => [n, paneProcess(n).pid]));
      const started = Date.now();
      kill();
      await waitFor(() => { try { return paneProcess(name).pid !== pids.get(name); } catch { return false; } }, { timeoutMs: 30_000, what: `${name} relaunched after ${how}` });
      await backWithConversations(d, ids, new Map([[name, pids.get(name) ?? '']]), `${name} back after ${how}`);
      expect(POOL.every((n) => d.store.getSession(n)?.state === 'idle')).toBe(true);
      backMs.push(Date.now() - started);
      if (d.store.getSession(name)?.lastError === null) passes++;
    }
    await d.notifier.flush(2000);
    expect(e2e.telegramTexts().filter((t) => t.includes('dies right after its launch'))).toEqual([]);
    expectTranscriptsIntact(sandbox, before);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    recordFigure({ probe: 'a pane killed by hand', test: TEST, runs: kills.length, passes, measured: { maxBackMs: Math.max(...backMs), laterLimitToSwapMs: limit.ms } });
    expect(passes).toBe(kills.length);
  });

  it('the claude binary missing, then replaced by one that exits at once: backoff and one clear report, not a loop; back with its conversation once restored, a later real limit swapped', async () => {
    const bin = join(e2e.root, 'bin');
    mkdirSync(bin);
    const claude = join(bin, 'claude');
    const sandboxFake = fakeClaudePath();
    symlinkSync(sandboxFake, claude);
    const { sandbox, d, ids, log } = await setUp(claude);
    const before = snapshotTranscripts(sandbox);
    const restartsAt = d.store.getSession('web')?.restarts ?? 0;
    const started = Date.now();

    // 1. The binary is gone (an uninstall, a broken update) and web's claude exits.
    rmSync(claude);
    tmux(e2e.socket, 'kill-session', '-t', '=web');
    const missing = await waitFor(() => { const s = d.store.getSession('web'); return s?.state === 'dead' && s.lastError ? s.lastError : null; }, { timeoutMs: 30_000, what: 'web dead with its last words' });
    expect(missing).toMatch(/not found|No such file/);
    // 2. Replaced by a claude that exits at once, without a word.
    writeFileSync(claude, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const silent = await waitFor(() => { const s = d.store.getSession('web'); return s?.state === 'dead' && s.lastError && /printing nothing/.test(s.lastError) ? s.lastError : null; }, { timeoutMs: 30_000, what: 'web dead again, from the binary that exits at once' });
    // The status is given when tmux already had it when the death was judged (it closes the pane's terminal first).
    expect(silent).toMatch(/^claude exited( with status 0)? right after its launch, printing nothing$/);
    const failedLaunches = (d.store.getSession('web')?.restarts ?? 0) - restartsAt;
    const failingMs = Date.now() - started;
    // Not a loop: with a 5 s, 10 s… backoff, a handful of launches in this time, not one per reconcile (500 ms).
    expect(failedLaunches).toBeLessThanOrEqual(Math.ceil(failingMs / 5000) + 1);
    expect((await d.status()).sessions.find((s) => s.name === 'web')).toMatchObject({ state: 'dead', lastError: silent });
    await d.notifier.flush(2000);
    const reports = e2e.telegramTexts().filter((t) => t.startsWith('Session web dies right after its launch'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/not found|No such file/);
    expect(log.lines.some((l) => l.level >= 40 && l.msg === 'session died right after its launch')).toBe(true);

    // 3. Restored: after the backoff web comes back with its own conversation.
    rmSync(claude);
    symlinkSync(sandboxFake, claude);
    await waitFor(() => { const s = d.store.getSession('web'); return s?.state === 'idle' && s.sessionId === ids.get('web') && paneProcess('web').args.includes(`--resume ${ids.get('web') ?? ''}`); }, { timeoutMs: 60_000, what: 'web back with its conversation after the backoff' });
    const recoveredMs = Date.now() - started;
    expectTranscriptsIntact(sandbox, before);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    recordFigure({ probe: 'claude binary missing, then exiting at once', test: TEST, runs: 2, passes: 2, measured: { failedLaunches, failingMs, reports: reports.length, recoveredAfterRestoreMs: recoveredMs, laterLimitToSwapMs: limit.ms } });
  });
});
