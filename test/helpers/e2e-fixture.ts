import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/demo/sandbox.js';
import type { SwitchOutcome } from '../../src/switcher/types.js';
import { testLogger } from './test-logger.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';
import { killPrivateServer, privateSocketName } from './private-tmux.js';
import { startTelegramStandIn, type TelegramStandIn } from './telegram-stand-in.js';
import { exitOf, spawnCli } from './cli.js';

export type DoneSwap = Extract<SwitchOutcome, { result: 'done' }>;

export interface E2eOptions {
  /** A Telegram stand-in for each test, named in every sandbox's notify config. */
  readonly telegram?: boolean;
  /** One temp dir and tmux server for the whole file (beforeAll/afterAll) instead of one per test. */
  readonly once?: boolean;
}

/** A sandbox as a test wants it: its accounts and pool, and the monitor settings it tunes. */
export interface SandboxSpec extends Omit<SandboxOptions, 'root' | 'socket' | 'overrides'> {
  /** Over `pollIntervalMs: 300, cooldownMs: 0`. */
  readonly monitor?: Record<string, unknown>;
  readonly server?: Record<string, unknown>;
}

/**
 * The set-up every end-to-end test shares: a temp dir, a private tmux server, the fake
 * Claude Code's sandbox, in-process daemons (or `run` as a child) and what they report,
 * all torn down after the test whatever happened. Values change per test: read them
 * through the returned object inside a test, never copy them at the top of the file.
 */
export interface E2e {
  readonly root: string;
  readonly socket: string;
  /** The daemon started last in this test; throws when none was. */
  readonly daemon: Daemon;
  readonly telegram: TelegramStandIn;
  /** Every outcome the in-process daemons reported in this test, in order. */
  readonly outcomes: SwitchOutcome[];
  readonly doneSwaps: () => DoneSwap[];
  readonly telegramTexts: () => string[];
  readonly sandbox: (spec: SandboxSpec) => Promise<Sandbox>;
  /**
   * An in-process daemon on the sandbox: the test logger, reconcile every 500 ms, no HTTP
   * listener unless `http: true`, outcomes collected; `options` override. Stopped after the test.
   */
  readonly startDaemon: (sandbox: Pick<Sandbox, 'config'>, options?: Partial<DaemonOptions>) => Promise<Daemon>;
  /** `claude-failover run` as a child process, its output appended to a log; killed after the test. */
  readonly spawnDaemon: (sandbox: Pick<Sandbox, 'configFile'>, env?: Record<string, string>) => ChildProcess;
}

export function useE2e(label: string, options: E2eOptions = {}): E2e {
  let root: string | null = null;
  let socket: string | null = null;
  let telegram: TelegramStandIn | null = null;
  let current: Daemon | null = null;
  const daemons: Daemon[] = [];
  const children: ChildProcess[] = [];
  const outcomes: SwitchOutcome[] = [];
  const defined = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`the e2e fixture has no ${what} here (only inside a test)`);
    return value;
  };

  const setUp = async () => {
    root = await makeTempDir(label);
    socket = privateSocketName(label);
    if (options.telegram) telegram = await startTelegramStandIn();
    outcomes.length = 0;
  };
  const tearDown = async () => {
    const [dir, server, standIn] = [root, socket, telegram];
    current = telegram = root = socket = null;
    const faults: unknown[] = [];
    const attempt = (step: () => Promise<unknown>) => step().catch((err: unknown) => faults.push(err));
    for (const daemon of daemons.splice(0)) await attempt(() => daemon.stop());
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exitOf(child);
    }
    if (server) await attempt(() => killPrivateServer(server));
    if (standIn) await attempt(() => standIn.close());
    if (dir) await attempt(() => removeTempDir(dir));
    if (faults.length > 0) throw faults[0];
  };
  if (options.once) {
    beforeAll(setUp);
    afterAll(tearDown);
  } else {
    beforeEach(setUp);
    afterEach(tearDown);
  }

  return {
    get root() { return defined(root, 'temp dir'); },
    get socket() { return defined(socket, 'tmux socket'); },
    get daemon() { return defined(current, 'daemon started'); },
    get telegram() { return defined(telegram, 'Telegram stand-in (ask for telegram: true)'); },
    outcomes,
    doneSwaps: () => outcomes.filter((o): o is DoneSwap => o.result === 'done'),
    telegramTexts: () => defined(telegram, 'Telegram stand-in').messages.map((m) => String(m.body.text)),
    sandbox: ({ monitor, server, ...spec }) =>
      createSandbox({
        ...spec,
        root: defined(root, 'temp dir'),
        socket: defined(socket, 'tmux socket'),
        overrides: {
          monitor: { pollIntervalMs: 300, cooldownMs: 0, ...monitor },
          ...(server ? { server } : {}),
          ...(telegram ? { notify: { telegram: { botToken: '123456:TEST-TOKEN', chatId: '42', apiBase: telegram.url } } } : {}),
        },
      }),
    startDaemon: async (sandbox, daemonOptions = {}) => {
      const daemon = await startDaemon({
        config: sandbox.config,
        logger: testLogger(),
        reconcileMs: 500,
        http: false,
        ...daemonOptions,
        onSwap: (outcome) => {
          outcomes.push(outcome);
          daemonOptions.onSwap?.(outcome);
        },
      });
      daemons.push(daemon);
      current = daemon;
      return daemon;
    },
    spawnDaemon: (sandbox, env = {}) => {
      const log = createWriteStream(process.env.CF_TEST_LOG ?? join(defined(root, 'temp dir'), 'daemon.log'), { flags: 'a' });
      const child = spawnCli(['--config', sandbox.configFile, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      children.push(child);
      return child;
    },
  };
}
