import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killPrivateServer } from '../helpers/private-tmux.js';
import { removeTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { exitOf, runCli, spawnCli } from '../helpers/cli.js';

/** The private tmux server and the sandbox the demo names in its first line. */
function sandboxOf(out: string): { socket: string; root: string } | undefined {
  const m = /sandbox in (\S+); private tmux server: tmux -L (\S+)/.exec(out);
  return m?.[1] && m[2] ? { root: m[1], socket: m[2] } : undefined;
}

/** Whether a tmux server answers on that socket. */
function serverRunning(socket: string): boolean {
  return spawnSync('tmux', ['-L', socket, 'list-sessions'], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

function sessionsOn(socket: string): string[] {
  const r = spawnSync('tmux', ['-L', socket, 'list-panes', '-a', '-F', '#{session_name} #{pane_dead}'], { encoding: 'utf8', timeout: 5000 });
  return r.stdout.split('\n').filter(Boolean).sort();
}

interface DemoRun {
  readonly child: ChildProcess;
  out(): string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(...args: string[]): DemoRun {
  const child = spawnCli(['demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return { child, out: () => out, exit: exitOf(child) };
}

describe('the demo (the README\'s first command)', () => {
  let run: DemoRun | null = null;

  afterEach(async () => {
    if (!run) return;
    const found = sandboxOf(run.out());
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.exit;
    }
    if (found) {
      await killPrivateServer(found.socket);
      await removeTempDir(found.root);
    }
    run = null;
  });

  it('runs a real failover and a return in a sandbox, narrates them, cleans up and exits 0', async () => {
    const result = await runCli(['demo'], { timeoutMs: 170_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/LIMIT on alpha: seen through the (hook|transcript|screen) signal/);
    expect(out).toContain('SWAP switched alpha → bravo; 3/3 session(s) moved');
    expect(out).toMatch(/auto-1: resumed conversation [0-9a-f-]{36}, sent the continuation prompt/);
    expect(out).toContain('SWAP switched bravo → alpha; 3/3 session(s) moved');
    expect(out).toContain('back on alpha; link → alpha');
    const sandbox = sandboxOf(out);
    expect(sandbox).toBeDefined();
    expect(existsSync(sandbox?.root ?? '/')).toBe(false);
    expect(serverRunning(sandbox?.socket ?? 'none')).toBe(false);
  }, 180_000);

  it.each([
    ['SIGINT', 130, /started web on alpha/],
    ['SIGTERM', 143, /work is flowing/],
  ] as const)('stopped with %s, it removes its tmux server and its sandbox and exits %i', async (signal, code, when) => {
    const demo = startDemo();
    run = demo;
    await waitFor(() => when.test(demo.out()), { timeoutMs: 60_000, what: `the narration to reach ${String(when)}` });
    const sandbox = sandboxOf(demo.out());
    expect(sandbox).toBeDefined();
    expect(serverRunning(sandbox?.socket ?? 'none')).toBe(true);
    demo.child.kill(signal);
    expect(await demo.exit).toEqual({ code, signal: null });
    expect(demo.out()).toContain(`${signal}: stopping the demo`);
    expect(serverRunning(sandbox?.socket ?? 'none')).toBe(false);
    expect(existsSync(sandbox?.root ?? '/')).toBe(false);
  }, 90_000);

  it('--keep prints how to attach and leaves the sessions running after Ctrl-C stops its daemon', async () => {
    const demo = startDemo('--keep', '--reset-seconds', '25');
    run = demo;
    const attach = await waitFor(() => /--keep: the daemon keeps running\. Attach: +tmux -L (\S+) attach -t (\S+)/.exec(demo.out()) ?? undefined, {
      timeoutMs: 150_000,
      what: 'the demo to finish and print how to attach',
    });
    const sandbox = sandboxOf(demo.out());
    expect(attach[1]).toBe(sandbox?.socket);
    expect(attach[2]).toBe('auto-1');
    expect(demo.out()).toContain('back on alpha; link → alpha');
    const live = ['auto-1 0', 'auto-2 0', 'web 0'];
    expect(sessionsOn(attach[1] ?? '')).toEqual(live);

    demo.child.kill('SIGINT');
    expect(await demo.exit).toEqual({ code: 0, signal: null });
    expect(demo.out()).toContain(`remove it with: tmux -L ${attach[1] ?? ''} kill-server`);
    expect(sessionsOn(attach[1] ?? '')).toEqual(live);
    expect(existsSync(join(sandbox?.root ?? '/nonexistent', 'config.yaml'))).toBe(true);
    // The test cleans up what --keep left (afterEach).
  }, 180_000);
});
