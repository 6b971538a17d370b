import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { runCli, spawnCli } from '../../test/helpers/cli.js';
import { startControlSocket, type ControlEvent } from '../monitor/control-socket.js';

// The hook and statusline relays as Claude Code runs them: the built CLI, a real process, a real socket.

let dir: string;
let socketPath: string;
let events: ControlEvent[];
let closeSocket: (() => Promise<void>) | null;
beforeEach(async () => {
  dir = await makeTempDir('cf-hook');
  socketPath = join(dir, 'daemon.sock');
  events = [];
  closeSocket = null;
});
afterEach(async () => {
  await closeSocket?.();
  await removeTempDir(dir);
});

async function daemon(): Promise<void> {
  const server = await startControlSocket(socketPath, { logger: silentLogger(), onEvent: (e) => events.push(e), onRequest: () => Promise.resolve(null) });
  closeSocket = () => server.close();
}

interface Run {
  code: number | null;
  stdout: string;
}

/** Runs the CLI; `input` null leaves stdin open (never written, never closed). */
async function run(args: string[], input: string | null, env: Record<string, string> = {}): Promise<Run> {
  const { code, stdout } = await runCli(args, { input, env });
  return { code, stdout };
}

const hookPayload = { session_id: 'abc', transcript_path: '/t/abc.jsonl', cwd: '/p', hook_event_name: 'StopFailure', error: 'rate_limit' };

describe('hook relay', () => {
  it('forwards the hook JSON with $TMUX_PANE to the daemon, prints nothing, exits 0', async () => {
    await daemon();
    expect(await run(['hook', '--socket', socketPath, 'StopFailure'], JSON.stringify(hookPayload), { TMUX_PANE: '%7' })).toEqual({ code: 0, stdout: '' });
    await waitFor(() => events.length === 1, { what: 'the hook event' });
    expect(events[0]).toMatchObject({ type: 'hook', event: 'StopFailure', pane: '%7', payload: hookPayload });
    expect(typeof events[0]?.at).toBe('number');
  });

  it('sends pane null outside tmux, payload null for empty stdin, and the raw text for garbage', async () => {
    await daemon();
    expect(await run(['hook', '--socket', socketPath, 'SessionStart'], '')).toEqual({ code: 0, stdout: '' });
    await waitFor(() => events.length === 1, { what: 'the empty hook' });
    expect(events[0]).toMatchObject({ type: 'hook', event: 'SessionStart', pane: null, payload: null });
    expect(await run(['hook', '--socket', socketPath, 'Stop'], '\u0000garbage{{{')).toEqual({ code: 0, stdout: '' });
    await waitFor(() => events.length === 2, { what: 'the garbage hook' });
    expect(JSON.stringify(events[1])).toContain('garbage{{{');
  });

  it('exits 0 without a word when the daemon is down or the input is garbage', async () => {
    const missing = join(dir, 'missing.sock');
    expect(await run(['hook', '--socket', missing, 'Stop'], JSON.stringify(hookPayload))).toEqual({ code: 0, stdout: '' });
    expect(await run(['hook', '--socket', missing, 'Stop'], '\u0000garbage{{{')).toEqual({ code: 0, stdout: '' });
    expect(await run(['hook', 'Stop'], JSON.stringify(hookPayload))).toEqual({ code: 0, stdout: '' });
  });

  it('forwards a payload that reaches it late (a busy machine gives the relay the CPU after its timers), then exits 0', async () => {
    await daemon();
    const child = spawnCli(['hook', '--socket', socketPath, 'StopFailure'], { env: { TMUX_PANE: '%9' } });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    // Well past the relay's own start: a read that gave up after tens of milliseconds would send nothing.
    await new Promise((resolve) => setTimeout(resolve, 400));
    child.stdin?.end(JSON.stringify(hookPayload));
    expect(await exited).toBe(0);
    await waitFor(() => events.length === 1, { what: 'the late hook event' });
    expect(events[0]).toMatchObject({ type: 'hook', event: 'StopFailure', pane: '%9', payload: hookPayload });
  });

  it('exits 0 when stdin never closes, daemon or not', async () => {
    expect(await run(['hook', '--socket', join(dir, 'missing.sock'), 'Stop'], null)).toEqual({ code: 0, stdout: '' });
    await daemon();
    expect(await run(['hook', '--socket', socketPath, 'Stop'], null, { TMUX_PANE: '%2' })).toEqual({ code: 0, stdout: '' });
  });
});

describe('statusline relay', () => {
  const status = { session_id: 'abc', transcript_path: '/t/abc.jsonl', rate_limits: { five_hour: { used_percentage: 42.4, resets_at: 1800000000 }, seven_day: { used_percentage: 10, resets_at: 1800500000 } } };

  it('forwards the usage figures and prints a short line of its own', async () => {
    await daemon();
    const result = await run(['statusline', '--socket', socketPath], JSON.stringify(status), { TMUX_PANE: '%4' });
    expect(result).toEqual({ code: 0, stdout: '⇄ claude-failover · 5h 42%\n' });
    await waitFor(() => events.length === 1, { what: 'the statusline event' });
    expect(events[0]).toMatchObject({ type: 'statusline', pane: '%4', payload: status });
    expect(await run(['statusline', '--socket', socketPath], '{}')).toEqual({ code: 0, stdout: '⇄ claude-failover\n' });
  });

  it('runs the chained user statusline with the same stdin and passes its output through unchanged', async () => {
    await daemon();
    const chain = 'payload=$(cat); printf "mine: %s|\\n\\033[1mbold\\033[0m" "$payload"';
    const result = await run(['statusline', '--socket', socketPath, '--chain', chain], JSON.stringify(status));
    expect(result).toEqual({ code: 0, stdout: `mine: ${JSON.stringify(status)}|\n\u001b[1mbold\u001b[0m` });
    await waitFor(() => events.length === 1, { what: 'the statusline event' });
  });

  it('exits 0 when the daemon is down, the chained command fails, or it hangs', async () => {
    const missing = join(dir, 'missing.sock');
    expect(await run(['statusline', '--socket', missing, '--chain', 'echo partial; exit 3'], '{}')).toEqual({ code: 0, stdout: 'partial\n' });
    expect(await run(['statusline', '--socket', missing, '--chain', 'exec sleep 30'], '{}')).toEqual({ code: 0, stdout: '' });
    expect(await run(['statusline', '--socket', missing], 'garbage')).toEqual({ code: 0, stdout: '⇄ claude-failover\n' });
  });
});

describe('fast path', () => {
  it('loads neither commander nor pino, sqlite, hono, zod or yaml for a hook or the statusline', async () => {
    // A module hook that names every heavy package the process resolves.
    const tracer = join(dir, 'trace-loads.mjs');
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c); if (/node_modules\\/(pino|better-sqlite3|hono|@hono|commander|@commander-js|zod|yaml)\\//.test(r.url)) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }`;
    writeFileSync(tracer, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));\n`);
    const missing = join(dir, 'missing.sock');
    for (const args of [['hook', '--socket', missing, 'Stop'], ['statusline', '--socket', missing]]) {
      const result = await runCli(args, { nodeArgs: ['--import', tracer], input: '{}' });
      expect(result.code).toBe(0);
      expect(result.stderr).not.toContain('LOADED');
    }
    // The tracer does see them on the ordinary path.
    expect((await runCli(['--help'], { nodeArgs: ['--import', tracer], input: '' })).stderr).toContain('LOADED');
  });
});

describe('commander registration', () => {
  it('lists hook and statusline in --help, and `hook --help` shows help instead of relaying', async () => {
    expect((await run(['--help'], '')).stdout).toMatch(/hook[\s\S]*statusline/);
    const help = await run(['hook', '--help'], '');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--socket <path>');
  });
});
