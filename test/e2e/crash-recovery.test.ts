import { mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { openStore } from '../../src/store/sqlite-store.js';
import { verifySharedLinks } from '../../src/accounts/shared-links.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import type { SwapStep } from '../../src/switcher/types.js';
import { waitFor } from '../helpers/wait-for.js';
import { setImmutable, tmux, transcriptSizes } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { exitOf } from '../helpers/cli.js';

const POOL = ['auto-1', 'web'];

describe('crash recovery: the daemon killed with SIGKILL at each journal step', () => {
  const e2e = useE2e('cf-crash', { once: true });
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 100000, turnMs: 50 } },
        { name: 'B', quota: { limit: 100000, turnMs: 50 } },
      ],
      autonomous: { min: 1, max: 1 },
      dedicated: ['web'],
      monitor: { returnMarginMs: 1000 },
    });
  });

  const startDaemonProcess = (failpoint: SwapStep | null) => e2e.spawnDaemon(sandbox, { CLAUDE_FAILOVER_FAILPOINT: failpoint ?? '' });

  /** Link, shared links, active account and pool agree, no swap is left half done, and the daemon answers. */
  async function consistent(): Promise<string | false> {
    const answered = await sendRequest(daemonSocketPath(sandbox.config), 'ping', null, { timeoutMs: 2000 }).catch(() => null);
    if (answered === null) return false;
    const store = openStore(sandbox.config.stateDir);
    try {
      if (store.unfinishedJournal()) return false;
      const active = store.getActiveAccount();
      const link = readlinkSync(sandbox.config.link);
      const activeHome = sandbox.config.accounts.find((a) => a.name === active)?.home;
      if (!activeHome || link !== activeHome) return false;
      if ((await verifySharedLinks(sandbox.config, activeHome)).length > 0) return false;
      const sessions = store.listSessions().filter((s) => POOL.includes(s.name));
      if (sessions.length !== POOL.length || !sessions.every((s) => s.account === active && s.state === 'idle')) return false;
      const panes = tmux(e2e.socket, 'list-panes', '-a', '-F', '#{session_name} #{pane_dead}');
      if (!POOL.every((n) => panes.includes(`${n} 0`))) return false;
      return active ?? false;
    } finally {
      store.close();
    }
  }

  function sessionIds(): Record<string, string | null> {
    const store = openStore(sandbox.config.stateDir);
    try {
      return Object.fromEntries(store.listSessions().filter((s) => POOL.includes(s.name)).map((s) => [s.name, s.sessionId]));
    } finally {
      store.close();
    }
  }

  it.each<[SwapStep, boolean]>([
    ['saved', false],
    ['flipping', false],
    ['ensuring', false],
    ['stopping', false],
    ['relaunching', false],
    ['committing', false],
    ['rolling-back', true],
  ])('killed after writing "%s": a restart repairs everything and loses no transcript', async (step, breakTarget) => {
    // A healthy daemon, with a conversation in every session.
    let daemon = startDaemonProcess(null);
    const before = await waitFor(consistent, { timeoutMs: 40_000, what: 'a consistent start' });
    if (step === 'saved') {
      for (const name of POOL) {
        tmux(e2e.socket, 'send-keys', '-t', name, '-l', `hello from ${name} [turns=1]`);
        tmux(e2e.socket, 'send-keys', '-t', name, 'Enter');
      }
      await waitFor(() => transcriptSizes(sandbox).size >= POOL.length, { what: 'transcripts' });
    }
    await waitFor(consistent, { what: 'idle again' });
    const sizes = transcriptSizes(sandbox);
    const ids = sessionIds();
    daemon.kill('SIGTERM');
    expect(await exitOf(daemon, 60_000)).toEqual({ code: 0, signal: null });

    // The same, with the failpoint: the swap dies right after the step is journaled.
    const target = before === 'A' ? 'B' : 'A';
    const targetHome = join(sandbox.config.home, `.claude-${target}`);
    if (breakTarget) {
      // Preparing the target must fail: a wrong shared link in a home nothing can write to.
      rmSync(join(targetHome, 'projects'));
      mkdirSync(join(e2e.root, 'elsewhere'), { recursive: true });
      symlinkSync(join(e2e.root, 'elsewhere'), join(targetHome, 'projects'));
      setImmutable(targetHome, true);
    }
    try {
      daemon = startDaemonProcess(step);
      await waitFor(consistent, { timeoutMs: 40_000, what: 'the failpoint daemon up' });
      await sendRequest(daemonSocketPath(sandbox.config), 'switch', { account: target }, { timeoutMs: 60_000 }).catch(() => undefined);
      expect(await exitOf(daemon, 60_000)).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      if (breakTarget) setImmutable(targetHome, false);
    }

    // Restart: the journal is finished or rolled back.
    daemon = startDaemonProcess(null);
    const after = await waitFor(consistent, { timeoutMs: 60_000, what: `a consistent state after a crash at "${step}"` });
    expect(after).toBe(step === 'saved' || step === 'rolling-back' ? before : target);
    for (const [file, size] of sizes) expect(transcriptSizes(sandbox).get(file) ?? -1).toBeGreaterThanOrEqual(size);
    // Every conversation came back as itself, not as a fresh one.
    expect(sessionIds()).toEqual(ids);
    const store = openStore(sandbox.config.stateDir);
    const lastSwap = store.listSwaps(1)[0];
    store.close();
    expect(lastSwap?.result).toBe(step === 'saved' || step === 'rolling-back' ? 'cancelled' : 'done');
    daemon.kill('SIGTERM');
    expect(await exitOf(daemon, 60_000)).toEqual({ code: 0, signal: null });
  }, 240_000);
});
