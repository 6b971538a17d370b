import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../demo/sandbox.js';
import { openStore } from '../store/sqlite-store.js';
import { shellQuote } from '../claude/shell-quote.js';
import { CLI_ENTRY, runCli } from '../../test/helpers/cli.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { tmux } from '../../test/helpers/e2e.js';
import { waitFor } from '../../test/helpers/wait-for.js';

const ESC = '\x1b[';

/** `status` for people, through the built CLI, on a state store written as the daemon writes it. */
describe('status: the table, colour, --json and --watch', () => {
  let root: string;
  let socket: string;
  let sandbox: Sandbox;

  beforeEach(async () => {
    root = await makeTempDir('cf-status');
    socket = privateSocketName('cf-status');
    sandbox = await createSandbox({ root, socket, accounts: [{ name: 'A', quota: { limit: 10 } }, { name: 'B', quota: { limit: 10 } }], autonomous: { min: 1, max: 1 } });
    const store = openStore(sandbox.config.stateDir);
    try {
      const now = Date.now();
      store.setActiveAccount('B');
      // A is out for 2 h 30 min and a half; B has used 45% of a window that resets in 3 h.
      store.markExhausted('A', { kind: 'five_hour', resetsAt: new Date(now + 9_030_000), resetGuessed: false, source: 'hook:epoch', detectedAt: new Date(now) });
      store.recordUsage('B', { percent: 45, kind: 'five_hour', resetsAt: new Date(now + 3 * 3_600_000 + 30_000) });
      store.upsertSession({ name: 'auto-1', account: 'B', state: 'working', sessionId: '5b1c1f0e-0000-4000-8000-000000000001', cwd: root, restarts: 0 });
      store.addSwap({ from: 'A', to: 'B', at: new Date(now - 120_000), result: 'done', reason: 'Session limit reached', trigger: 'limit' });
      const running = await store.tasks.add({ prompt: 'Refactor the parser\nand its tests' });
      await store.tasks.add({ prompt: 'Write the changelog' });
      const claimed = await store.tasks.claim('auto-1', { autonomous: true });
      expect(claimed?.id).toBe(running.id);
      await store.tasks.started(running.id, '5b1c1f0e-0000-4000-8000-000000000001');
    } finally {
      store.close();
    }
  });
  afterEach(async () => {
    await killPrivateServer(socket);
    await removeTempDir(root);
  });

  const status = (args: string[], env: Record<string, string | undefined> = {}) => runCli(['--config', sandbox.configFile, 'status', ...args], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } });

  it('prints a table with usage bars, reset countdowns, each session\'s task and the queue\'s counts; no colour into a pipe', async () => {
    const result = await status([]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const out = result.stdout;
    expect(out).not.toContain(ESC);
    // The store says B; the link (never flipped in this sandbox) still points to A: status shows both as they are.
    expect(out).toMatch(/active: B {2}link → A/);
    const line = (start: RegExp) => out.split('\n').find((l) => start.test(l)) ?? '';
    // A: exhausted, a full bar, back in 2 h 31 min (the minute rounded up).
    expect(line(/^ {4}A /)).toMatch(/exhausted \(five_hour\)\s+█{20} 100%\s+in 2h 3[01]m\s+\[preferred\]$/);
    // B: active, 45% (9 of 20 cells), its window resets in 3 h.
    expect(line(/^ {2}\* B /)).toMatch(/available\s+█{9}░{11} {2}45%\s+window in 3h 0[01]m$/);
    expect(line(/^ {2}auto-1 /)).toMatch(/^ {2}auto-1 +working +B +#1 Refactor the parser and i… +5b1c1f0e-0000-4000-8000-000000000001$/);
    expect(out).toContain('queued 1 · running 1 · done 0 · failed 0 · cancelled 0');
    expect(line(/→ B {2}done/)).toMatch(/^ +2m ago {2}A → B {2}done \(limit\): Session limit reached$/);
  });

  it('colours with FORCE_COLOR, and never with NO_COLOR or --no-color', async () => {
    const forced = await status([], { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(`${ESC}31m`); // exhausted in red
    expect(forced.stdout).toContain(`${ESC}32m`); // available in green
    for (const [args, env] of [[[], { FORCE_COLOR: '1', NO_COLOR: '1' }], [['--no-color'], { FORCE_COLOR: '1' }]] as const) {
      const result = await status([...args], env);
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain(ESC);
      expect(result.stdout).toContain('45%');
    }
  });

  it('--json keeps every field of the report and adds the task fields', async () => {
    const result = await status(['--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown> & { sessions: Record<string, unknown>[]; tasks: { counts: Record<string, number> } };
    for (const field of ['activeAccount', 'link', 'partialSwap', 'accounts', 'sessions', 'swaps', 'scheduled', 'generatedAt']) expect(report).toHaveProperty(field);
    expect(report.tasks.counts).toEqual({ queued: 1, running: 1, done: 0, failed: 0, cancelled: 0 });
    expect(report.sessions[0]).toMatchObject({ name: 'auto-1', state: 'working', account: 'B', restarts: 0, task: { id: 1, state: 'running', session: 'auto-1', prompt: 'Refactor the parser\nand its tests' } });
  });

  it('--watch redraws in place on a terminal, in colour, shows a change without a restart, and exits 0 on Ctrl-C', async () => {
    const command = `${shellQuote(process.execPath)} ${shellQuote(CLI_ENTRY)} --config ${shellQuote(sandbox.configFile)} status --watch --interval 0.3; echo "exit=$?"; sleep 600`;
    tmux(socket, 'new-session', '-d', '-s', 'watch', '-x', '160', '-y', '50', '-e', 'NO_COLOR=', '-e', `HOME=${join(root, 'home')}`, command);
    const screen = (escapes = false) => tmux(socket, 'capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', '=watch:');
    await waitFor(() => screen().includes('ACCOUNTS'), { what: 'the first screen' });
    expect(screen(true)).toContain(`${ESC}31m`);
    expect(screen()).toContain('every 0.3s · Ctrl-C to stop');
    // Redrawn in place: one header on the screen, however many refreshes.
    await waitFor(() => screen().includes('running 1'), { what: 'the task counts' });
    const store = openStore(sandbox.config.stateDir);
    try {
      await store.tasks.finished(1, 'All green');
    } finally {
      store.close();
    }
    await waitFor(() => screen().includes('queued 1 · running 0 · done 1'), { what: 'the finished task on the open screen' });
    expect(screen().split('\n').filter((l) => l.includes('claude-failover  active:'))).toHaveLength(1);
    tmux(socket, 'send-keys', '-t', '=watch:', 'C-c');
    await waitFor(() => screen().includes('exit=0'), { what: 'status --watch to exit 0 on Ctrl-C' });
  });
});
