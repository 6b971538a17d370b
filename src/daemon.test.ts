import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startDaemon } from './daemon.js';
import type { Sandbox } from './demo/sandbox.js';
import { sendRequest } from './monitor/control-socket.js';
import { daemonSocketPath } from './claude/self-command.js';
import { openStore } from './store/sqlite-store.js';
import { testLogger } from '../test/helpers/test-logger.js';
import { tmux, waitForIdlePool } from '../test/helpers/e2e.js';
import { useE2e } from '../test/helpers/e2e-fixture.js';

/** The composition root on a private tmux server with the fake Claude Code: start, serve, stop. */
describe('startDaemon / stop', () => {
  const e2e = useE2e('cf-daemon');

  const sandbox = () =>
    e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 1000, turnMs: 50 } },
        { name: 'B', quota: { limit: 1000, turnMs: 50 } },
      ],
      autonomous: { min: 1, max: 1 },
      monitor: { returnMarginMs: 1000 },
    });
  const ping = (box: Sandbox) => sendRequest(daemonSocketPath(box.config), 'ping', null, { timeoutMs: 2000 });
  /** The lock and the control socket: what a running daemon holds in its state dir. */
  const held = (box: Sandbox) => readdirSync(box.config.stateDir).filter((name) => /lock|sock/.test(name)).sort();
  const panes = () => tmux(e2e.socket, 'list-panes', '-a', '-F', '#{session_name} #{pane_pid} #{pane_dead}').trim();

  it('recovers, starts the pool, answers ping on its control socket, and stops leaving neither socket nor lock (the sessions keep running)', async () => {
    const box = await sandbox();
    // The store says B, the link says A: recovery at start follows the link.
    const seeded = openStore(box.config.stateDir);
    seeded.setActiveAccount('B');
    seeded.close();

    const daemon = await e2e.startDaemon(box);
    expect(daemon.store.getActiveAccount()).toBe('A');
    await waitForIdlePool(daemon, ['auto-1']);
    expect(daemon.store.getSession('auto-1')).toMatchObject({ account: 'A', state: 'idle' });
    expect(await ping(box)).toEqual({ pid: process.pid });
    expect(held(box)).toEqual(['daemon.lock', 'daemon.sock']);
    const running = panes();
    expect(running).toMatch(/^auto-1 \d+ 0$/);

    await daemon.stop();
    expect(held(box)).toEqual([]);
    expect(existsSync(daemonSocketPath(box.config))).toBe(false);
    await expect(ping(box)).rejects.toThrow();
    expect(panes()).toBe(running);
    await daemon.stop(); // a second stop is a no-op
  });

  it('refuses a second daemon on the same state dir, leaves the first one serving, and starts again once it has stopped', async () => {
    const box = await sandbox();
    const first = await e2e.startDaemon(box);

    await expect(startDaemon({ config: box.config, logger: testLogger(), reconcileMs: 500, http: false })).rejects.toMatchObject({ code: 'INSTANCE_LOCKED' });
    expect(await ping(box)).toEqual({ pid: process.pid });
    expect(held(box)).toEqual(['daemon.lock', 'daemon.sock']);

    await first.stop();
    const again = await e2e.startDaemon(box);
    expect(await ping(box)).toEqual({ pid: process.pid });
    expect(again.store.getActiveAccount()).toBe('A');
  });
});
