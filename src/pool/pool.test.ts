import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../demo/sandbox.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createTmuxClient } from '../tmux/client.js';
import { buildStatus } from '../status/status-report.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { testLogger } from '../../test/helpers/test-logger.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { transcripts } from '../../test/helpers/e2e.js';
import { Pool } from './pool.js';

const CRASH = 'Error: this launch is refused on purpose';

describe('pool: a session that dies right after its launch (real tmux, fake Claude Code, injected clock)', () => {
  let root: string;
  let socket: string;
  let sandbox: Sandbox;
  let store: Store;
  let pool: Pool;
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const failing: { name: string; reason: string }[] = [];
  const tmux = () => createTmuxClient({ socket });

  beforeAll(async () => {
    root = await makeTempDir('cf-pool');
    socket = privateSocketName('cf-pool');
    sandbox = await createSandbox({ root, socket, accounts: [{ name: 'A', quota: { limit: 1000, turnMs: 50, crashOnStart: CRASH } }], dedicated: ['web'] });
    store = openStore(sandbox.config.stateDir, { now: () => new Date(clock) });
    const account = sandbox.config.accounts[0] ?? null;
    store.setActiveAccount('A');
    pool = new Pool({
      config: sandbox.config,
      tmux: tmux(),
      store,
      logger: testLogger(),
      now: () => new Date(clock),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      activeAccount: () => account,
      onSessionFailing: (name, reason) => failing.push({ name, reason }),
    });
  });

  afterAll(async () => {
    store.close();
    await killPrivateServer(socket);
    await removeTempDir(root);
  });

  const launches = () => store.getSession('web')?.restarts ?? -1;
  const lastError = () => buildStatus(sandbox.config, store, null, new Date(clock)).sessions.find((s) => s.name === 'web')?.lastError ?? null;
  const paneDead = async () => (await pool.poolPanes()).get('web')?.dead === true;
  /** The launch just made dies (a real process exiting); the next reconcile sees it, at the same instant. */
  const seeItDie = async () => {
    await waitFor(paneDead, { what: 'the launch to die' });
    await pool.reconcile();
  };

  it('backs off 5, 10, 20, 40 s… up to 10 min, keeps the last words in status, and notifies once per streak', async () => {
    await pool.reconcile();
    expect(launches()).toBe(0);
    await seeItDie();
    expect(store.getSession('web')?.state).toBe('dead');
    expect(lastError()).toContain(CRASH);

    for (const delaySeconds of [5, 10, 20, 40, 80, 160, 320, 600, 600]) {
      const before = launches();
      clock += delaySeconds * 1000 - 1;
      await pool.reconcile();
      expect(launches(), `no retry 1 ms before ${delaySeconds} s`).toBe(before);
      expect(await paneDead()).toBe(true); // the pane and its last words stay while it waits
      clock += 1;
      await pool.reconcile();
      expect(launches(), `a retry after ${delaySeconds} s`).toBe(before + 1);
      // While it keeps failing, status keeps saying why, even right after a retry's launch.
      expect(lastError()).toContain(CRASH);
      await seeItDie();
      expect(lastError()).toContain(CRASH);
    }
    expect(failing).toEqual([{ name: 'web', reason: expect.stringContaining(CRASH) as string }]);

    // The fault is fixed: the next retry lives. The streak ends only once it has lived past the threshold.
    await sandbox.setQuota('A', { crashOnStart: undefined });
    const before = launches();
    clock += 600_000;
    await pool.reconcile();
    expect(launches()).toBe(before + 1);
    await waitFor(async () => (await tmux().capturePane('web', 15)).includes('bypass permissions'), { what: 'the session at its prompt' });
    await pool.reconcile();
    expect(lastError()).toContain(CRASH);
    clock += 15_000;
    await pool.reconcile();
    expect(lastError()).toBeNull();

    // It fails again later: that is a new streak, notified again, starting over at 5 s.
    await sandbox.setQuota('A', { crashOnStart: CRASH });
    expect(await pool.sendPrompt('web', '/exit')).toBe(true);
    await waitFor(paneDead, { what: 'the session to exit' });
    const beforeExit = launches();
    await pool.reconcile(); // it lived long: restarted at once (and that launch crashes)
    expect(launches()).toBe(beforeExit + 1);
    await seeItDie();
    expect(failing).toHaveLength(2);
    clock += 4999;
    await pool.reconcile();
    expect(launches()).toBe(beforeExit + 1);
    clock += 1;
    await pool.reconcile();
    expect(launches()).toBe(beforeExit + 2);
  });
});

describe('pool: the session registry reads sessions/<pid>.json from the home each session runs under', () => {
  let root: string;
  let socket: string;
  let sandbox: Sandbox;
  let store: Store;
  let pool: Pool;
  let active = 'B';
  /** Runs once, right after the pool's next registry read: a hook landing mid-reconcile. */
  let afterNextRegistryRead: (() => void) | null = null;

  beforeAll(async () => {
    root = await makeTempDir('cf-pool-files');
    socket = privateSocketName('cf-pool-files');
    sandbox = await createSandbox({
      root,
      socket,
      accounts: [
        { name: 'A', quota: { limit: 1000, turnMs: 50 } },
        { name: 'B', quota: { limit: 1000, turnMs: 50 } },
      ],
      dedicated: ['web'],
    });
    store = openStore(sandbox.config.stateDir);
    // No daemon and no monitor: hooks reach nobody, so the session files are the only source.
    const client = createTmuxClient({ socket });
    const real = store;
    const seenByPool = new Proxy(real, {
      get(target, key) {
        if (key === 'listSessions') {
          return () => {
            const read = target.listSessions();
            const arrive = afterNextRegistryRead;
            afterNextRegistryRead = null;
            arrive?.();
            return read;
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    pool = new Pool({
      config: sandbox.config,
      tmux: client,
      store: seenByPool,
      logger: testLogger(),
      now: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      activeAccount: () => sandbox.config.accounts.find((a) => a.name === active) ?? null,
      onSessionFailing: () => undefined,
    });
  });

  afterAll(async () => {
    store.close();
    await killPrivateServer(socket);
    await removeTempDir(root);
  });

  it('learns the id a /clear gave a session on B while A is active, and moves that conversation to A', async () => {
    await pool.reconcile();
    const first = await waitFor(() => store.getSession('web')?.sessionId, { what: 'web launched on B' });
    expect(store.getSession('web')?.account).toBe('B');
    expect(await pool.sendPrompt('web', '/clear')).toBe(true);
    expect(await pool.sendPrompt('web', 'A question after the clear')).toBe(true);
    const cleared = await waitFor(() => [...transcripts(sandbox).keys()].find((id) => id !== first), { what: 'the new conversation\'s transcript' });

    // The link moved to A; web still runs on B, and its file is in B's home.
    // It is moved over once it is idle (its answer may still be running).
    active = 'A';
    await waitFor(
      async () => {
        await pool.reconcile();
        return store.getSession('web')?.account === 'A';
      },
      { what: 'web moved to A' },
    );
    expect(store.getSession('web')?.sessionId).toBe(cleared);
    const started = execFileSync('tmux', ['-L', socket, 'display-message', '-p', '-t', 'web', '#{pane_start_command}'], { encoding: 'utf8' });
    expect(started).toContain(`--resume ${cleared}`);
    expect(started).toContain(join(sandbox.config.home, '.claude-A'));
    expect(await pool.sendPrompt('web', 'And one more on A')).toBe(true);
    await waitFor(() => transcripts(sandbox).get(cleared)?.some((l) => l.includes('And one more on A')), { what: 'the same transcript to grow on A' });
  });

  it('keeps a limit a hook recorded while the reconcile was reading the session files', async () => {
    await pool.reconcile();
    await waitFor(async () => {
      await pool.reconcile();
      return store.getSession('web')?.state === 'idle';
    }, { what: 'web idle, as its session file says' });
    pool.sessions.promptSubmitted('web');
    // The StopFailure hook lands just after the reconcile read the registry, before it wrote.
    afterNextRegistryRead = () => { pool.sessions.limited('web'); };
    await pool.reconcile();
    expect(afterNextRegistryRead).toBeNull();
    // The session file still says idle; the limit is newer news and stays.
    expect(store.getSession('web')?.state).toBe('limited');
  });
});
