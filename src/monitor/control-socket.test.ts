import { spawnSync, spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { sendRequest, startControlSocket, type ControlEvent } from './control-socket.js';

const cli = join(process.cwd(), 'src/cli/main.ts');
let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-sock');
});
afterEach(async () => {
  await removeTempDir(dir);
});

function runHook(args: string[], input: string | null, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { input: input ?? undefined, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
}

describe('control socket and hook relay', () => {
  it('creates the socket 0600, answers requests and receives hook events with their pane', async () => {
    const path = join(dir, 'daemon.sock');
    const events: ControlEvent[] = [];
    const server = await startControlSocket(path, { logger: silentLogger(), onEvent: (e) => events.push(e), onRequest: (r) => Promise.resolve({ echo: r.command, args: r.args }) });
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(await sendRequest(path, 'ping', { x: 1 }, { timeoutMs: 2000 })).toEqual({ echo: 'ping', args: { x: 1 } });
      const payload = { session_id: 'abc', transcript_path: '/t.jsonl', hook_event_name: 'StopFailure', error: 'rate_limit' };
      const result = runHook(['hook', '--socket', path, 'StopFailure'], JSON.stringify(payload), { TMUX_PANE: '%7' });
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
      await waitFor(() => events.length === 1, { what: 'the hook event' });
      expect(events[0]).toMatchObject({ type: 'hook', event: 'StopFailure', pane: '%7', payload });
      const status = runHook(['statusline', '--socket', path], JSON.stringify({ rate_limits: { five_hour: { used_percentage: 42, resets_at: 1 } } }));
      expect(status.status).toBe(0);
      expect(status.stdout).toContain('5h 42%');
      await waitFor(() => events.length === 2, { what: 'the statusline event' });
      expect(events[1]).toMatchObject({ type: 'statusline', payload: { rate_limits: { five_hour: { used_percentage: 42 } } } });
    } finally {
      await server.close();
    }
  });

  it('chains the user statusline and passes its output through', () => {
    const result = runHook(['statusline', '--socket', join(dir, 'none.sock'), '--chain', 'read x; echo "mine: $x"'], 'payload-line\n');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('mine: payload-line\n');
  });

  it('never fails or blocks Claude Code: no daemon, garbage input, stdin left open', async () => {
    expect(runHook(['hook', '--socket', join(dir, 'missing.sock'), 'Stop'], '{"session_id":"x"}')).toMatchObject({ status: 0, stdout: '' });
    expect(runHook(['hook', '--socket', join(dir, 'missing.sock'), 'Stop'], '\u0000garbage{{{')).toMatchObject({ status: 0, stdout: '' });
    const open = spawn(process.execPath, ['--import', 'tsx', cli, 'hook', '--socket', join(dir, 'missing.sock'), 'Stop'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const code = await new Promise<number | null>((resolve) => open.on('exit', resolve));
    expect(code).toBe(0);
    open.stdin.destroy();
  });

  it('removes a stale socket file but never steals a live one', async () => {
    const path = join(dir, 'daemon.sock');
    writeFileSync(path, '');
    const first = await startControlSocket(path, { logger: silentLogger(), onEvent: () => undefined, onRequest: () => Promise.resolve(null) });
    await expect(startControlSocket(path, { logger: silentLogger(), onEvent: () => undefined, onRequest: () => Promise.resolve(null) })).rejects.toMatchObject({ code: 'SOCKET_IN_USE' });
    await first.close();
    await expect(sendRequest(path, 'ping', null, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'DAEMON_NOT_RUNNING' });
  });
});
