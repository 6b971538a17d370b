import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { Sandbox, SandboxAccount } from '../../src/demo/sandbox.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import { waitFor } from '../helpers/wait-for.js';
import { tmux, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { exitOf, runCli, type CliRun } from '../helpers/cli.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f-]{36}$/;

describe('the CLI, built and run as a user would (real tmux, fake Claude Code)', () => {
  const e2e = useE2e('cf-cli');
  let sandbox: Sandbox;

  async function makeSandbox(accounts: SandboxAccount[]): Promise<Sandbox> {
    sandbox = await e2e.sandbox({ accounts, autonomous: { min: 1, max: 1 }, dedicated: ['web'], monitor: { returnMarginMs: 500 }, server: { listen: '127.0.0.1:0' } });
    return sandbox;
  }

  const plenty = (name: string): SandboxAccount => ({ name, quota: { limit: 100_000, turnMs: 50 } });

  /** Runs the built CLI without blocking this process (an in-process daemon must keep answering). */
  const cli = (...args: string[]): Promise<CliRun> => runCli(['--config', sandbox.configFile, ...args], { timeoutMs: 120_000 });

  async function startInProcess(): Promise<Daemon> {
    const d = await e2e.startDaemon(sandbox, { reconcileMs: 300 });
    await waitForIdlePool(d, ['auto-1', 'web']);
    return d;
  }

  const panes = () =>
    tmux(e2e.socket, 'list-panes', '-a', '-F', '#{session_name} #{pane_pid} #{pane_dead}')
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

    const result = await cli('status', '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const status = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ activeAccount: 'B', link: 'B', partialSwap: { set: false, reason: null } });
    expect(status.accounts).toEqual([
      expect.objectContaining({ name: 'A', home: join(sandbox.config.home, '.claude-A'), exhausted: true, kind: 'five_hour', resetsAt: expect.stringMatching(ISO) as string }),
      expect.objectContaining({ name: 'B', home: join(sandbox.config.home, '.claude-B'), exhausted: false, kind: null, resetsAt: null }),
    ]);
    const project = (name: string) => join(e2e.root, 'projects', name);
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

    // --json: the outcome as the daemon gives it.
    const toC = await cli('switch', 'C', '--json');
    expect(toC).toMatchObject({ code: 0, stderr: '' });
    const outcome = JSON.parse(toC.stdout) as { result: string; from: string; to: string; sessions: { name: string; ok: boolean }[] };
    expect(outcome).toMatchObject({ result: 'done', from: 'A', to: 'C' });
    expect(outcome.sessions.map((s) => [s.name, s.ok]).sort()).toEqual([['auto-1', true], ['web', true]]);
    const again = await cli('switch', 'C', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ result: 'skipped', reason: expect.any(String) as string });
    const refused = await cli('switch', 'nosuch', '--json');
    expect(refused.code).toBe(1);
    expect(JSON.stringify(JSON.parse(refused.stdout))).toContain('no account named');
  });

  it('switch with no daemon running says so and exits non-zero', async () => {
    await makeSandbox([plenty('A'), plenty('B')]);
    const result = await cli('switch', 'B');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('claude-failover switch: the daemon is not running (start it with: claude-failover run)\n');
    const json = await cli('switch', 'B', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ error: 'the daemon is not running (start it with: claude-failover run)' });
  });

  it('a daemon run as a child stops on SIGTERM with exit 0 and leaves the pool\'s sessions running', async () => {
    await makeSandbox([plenty('A'), plenty('B')]);
    const run = e2e.spawnDaemon(sandbox);
    const exited = exitOf(run);
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
