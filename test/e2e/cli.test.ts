import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createSandbox, type Sandbox, type SandboxAccount } from '../../src/demo/sandbox.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import { testLogger } from '../helpers/test-logger.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../helpers/private-tmux.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForIdlePool } from '../helpers/e2e.js';

const MAIN = join(process.cwd(), 'dist/cli/main.js');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f-]{36}$/;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the CLI, built and run as a user would (real tmux, fake Claude Code)', () => {
  let root: string;
  let socket: string;
  let sandbox: Sandbox;
  let daemon: Daemon | null = null;
  let child: ChildProcess | null = null;

  beforeEach(async () => {
    root = await makeTempDir('cf-cli');
    socket = privateSocketName('cf-cli');
  });

  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
    await killPrivateServer(socket);
    await removeTempDir(root);
  });

  async function makeSandbox(accounts: SandboxAccount[]): Promise<Sandbox> {
    sandbox = await createSandbox({
      root,
      socket,
      accounts,
      autonomous: { min: 1, max: 1 },
      dedicated: ['web'],
      overrides: { monitor: { pollIntervalMs: 300, cooldownMs: 0, returnMarginMs: 500 }, server: { listen: '127.0.0.1:0' } },
    });
    return sandbox;
  }

  const plenty = (name: string): SandboxAccount => ({ name, quota: { limit: 100_000, turnMs: 50 } });

  /** Runs the built CLI without blocking this process (an in-process daemon must keep answering). */
  function cli(...args: string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(process.execPath, [MAIN, '--config', sandbox.configFile, ...args], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  async function startInProcess(): Promise<Daemon> {
    const d = await startDaemon({ config: sandbox.config, logger: testLogger(), reconcileMs: 300, http: false });
    daemon = d;
    await waitForIdlePool(d, ['auto-1', 'web']);
    return d;
  }

  const panes = () =>
    execFileSync('tmux', ['-L', socket, 'list-panes', '-a', '-F', '#{session_name} #{pane_pid} #{pane_dead}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 })
      .split('\n')
      .filter(Boolean)
      .sort();

  it('status --json, with the daemon stopped, reads the store and prints every field', async () => {
    await makeSandbox([{ name: 'A', quota: { limit: 1, turnMs: 50 } }, plenty('B')]);
    const d = await startInProcess();
    // A real limit: A allows one request, the task wants three.
    expect(await d.pool.sendPrompt('auto-1', 'Three steps [turns=3]')).toBe(true);
    await waitFor(() => d.store.listSwaps(5).some((s) => s.result === 'done'), { timeoutMs: 60_000, what: 'the swap to B' });
    await waitForIdlePool(d, ['auto-1', 'web']);
    await d.stop();
    daemon = null;

    const result = await cli('status', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const status = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ activeAccount: 'B', link: 'B', partialSwap: { set: false, reason: null } });
    expect(status.accounts).toEqual([
      expect.objectContaining({ name: 'A', home: join(sandbox.config.home, '.claude-A'), exhausted: true, kind: 'five_hour', resetsAt: expect.stringMatching(ISO) as string }),
      expect.objectContaining({ name: 'B', home: join(sandbox.config.home, '.claude-B'), exhausted: false, kind: null, resetsAt: null }),
    ]);
    const project = (name: string) => join(root, 'projects', name);
    expect(status.sessions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'auto-1', account: 'B', sessionId: expect.stringMatching(UUID) as string, state: expect.stringMatching(/^(idle|working)$/) as string, cwd: project('autonomous') }),
        expect.objectContaining({ name: 'web', account: 'B', sessionId: expect.stringMatching(UUID) as string, state: 'idle', cwd: project('web') }),
      ]),
    );
    expect(status.sessions).toHaveLength(2);
    expect(status.swaps).toEqual([expect.objectContaining({ from: 'A', to: 'B', at: expect.stringMatching(ISO) as string, result: 'done', trigger: 'limit' })]);
    const swap = (status.swaps as Record<string, unknown>[])[0] ?? {};
    expect('reason' in swap && (swap.reason === null || typeof swap.reason === 'string')).toBe(true);
  });

  it('switch ACCOUNT moves the pool, switch alone picks the best available account, an unknown account is refused', async () => {
    await makeSandbox([plenty('A'), plenty('B'), plenty('C')]);
    const d = await startInProcess();
    const ids = () => ['auto-1', 'web'].map((n) => d.store.getSession(n)?.sessionId);
    const before = ids();

    const toB = await cli('switch', 'B');
    expect(toB).toEqual({ code: 0, stdout: 'switched A → B; 2/2 session(s) moved\n', stderr: '' });
    expect((await d.status()).link).toBe('B');
    expect(d.store.listSessions().map((s) => [s.name, s.account])).toEqual([['auto-1', 'B'], ['web', 'B']]);
    expect(ids()).toEqual(before);

    // No account named: the best available one, which is the preferred A (not C, also free).
    const best = await cli('switch');
    expect(best).toEqual({ code: 0, stdout: 'switched B → A; 2/2 session(s) moved\n', stderr: '' });
    expect(d.store.getActiveAccount()).toBe('A');

    const unknown = await cli('switch', 'nosuch');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout + unknown.stderr).toContain('no account named "nosuch" (configured: A, B, C)');
    expect(d.store.getActiveAccount()).toBe('A');
    expect(d.store.listSwaps(10).filter((s) => s.result === 'done')).toHaveLength(2);
  });

  it('switch with no daemon running says so and exits non-zero', async () => {
    await makeSandbox([plenty('A'), plenty('B')]);
    const result = await cli('switch', 'B');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('claude-failover switch: the daemon is not running (start it with: claude-failover run)\n');
  });

  it('a daemon run as a child stops on SIGTERM with exit 0 and leaves the pool\'s sessions running', async () => {
    await makeSandbox([plenty('A'), plenty('B')]);
    const log = createWriteStream(process.env.CF_TEST_LOG ?? join(root, 'daemon.log'), { flags: 'a' });
    const run = spawn(process.execPath, [MAIN, '--config', sandbox.configFile, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = run;
    run.stdout.pipe(log);
    run.stderr.pipe(log);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => run.once('exit', (code, signal) => { resolve({ code, signal }); }));
    await waitFor(() => sendRequest(daemonSocketPath(sandbox.config), 'ping', {}, { timeoutMs: 2000 }), { timeoutMs: 30_000, what: 'the daemon to answer' });
    const live = await waitFor(() => {
      const p = panes();
      return p.length === 2 && p.every((line) => line.endsWith(' 0')) ? p : undefined;
    }, { what: 'auto-1 and web running' });
    expect(live.map((line) => line.split(' ')[0])).toEqual(['auto-1', 'web']);

    run.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(panes()).toEqual(live); // the same processes, still alive
    const after = await cli('switch', 'B');
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('the daemon is not running');
  });
});
