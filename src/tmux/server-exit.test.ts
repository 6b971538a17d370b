import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTmuxClient } from './client.js';
import { isServerExited } from './errors.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';

/**
 * `kill-server` returns before the server has gone: a command sent in the few milliseconds
 * after (or while the last session is killed, exit-empty) reaches a server that drops it, and
 * tmux says "server exited unexpectedly". The bench's hook-latency trials died of exactly
 * that: kill its only session, create the next one at once.
 */
describe('a command that races an exiting tmux server (real tmux, private socket)', () => {
  const socket = privateSocketName('cf-exit');
  const tmux = createTmuxClient({ socket });
  const killServer = () => spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore', timeout: 5000 });
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('cf-exit');
  });
  afterAll(async () => {
    await killPrivateServer(socket);
    await removeTempDir(dir);
  });

  it('is a real race: a plain tmux call right after kill-server is told "server exited unexpectedly"', () => {
    let seen = '';
    for (let round = 0; round < 40 && !seen; round++) {
      execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'w', 'exec cat'], { stdio: 'ignore', timeout: 5000 });
      killServer();
      const answer = spawnSync('tmux', ['-L', socket, 'list-sessions'], { encoding: 'utf8', timeout: 5000 });
      if (isServerExited(answer.stderr)) seen = answer.stderr;
    }
    expect(seen.trim()).toBe('server exited unexpectedly');
  });

  it('creates, lists and finds sessions right after kill-server, every time', async () => {
    for (let round = 0; round < 20; round++) {
      // Each call below follows a kill-server at once: the racing reader or creator retries.
      const { paneId } = await tmux.newSession({ name: `s${String(round)}`, cwd: dir, command: 'exec cat' });
      expect(paneId).toMatch(/^%\d+$/);
      killServer();
      expect(await tmux.listPanes()).toEqual([]);
      killServer();
      expect(await tmux.hasSession('nope')).toBe(false);
      killServer();
      expect(await tmux.listSessions()).toEqual([]);
      killServer();
      expect(await tmux.serverRunning()).toBe(false);
      killServer();
    }
  });

  it('retries only that message, and never a call that types into or restarts a pane', async () => {
    // A stand-in tmux that counts its calls and answers with a fixed stderr.
    const counted = (stderr: string) => {
      const path = join(dir, `counted-${String(Math.random()).slice(2)}`);
      writeFileSync(`${path}.stderr`, `${stderr}\n`);
      writeFileSync(path, `#!/bin/sh\necho x >> '${path}.calls'\ncat '${path}.stderr' >&2\nexit 1\n`);
      chmodSync(path, 0o755);
      const calls = () => readFileSync(`${path}.calls`, 'utf8').split('\n').filter(Boolean).length;
      return { client: createTmuxClient({ socket, tmuxPath: path }), calls };
    };
    const exited = counted('server exited unexpectedly');
    await expect(exited.client.listPanes()).rejects.toMatchObject({ code: 'TMUX_FAILED' });
    expect(exited.calls()).toBeGreaterThan(1);
    const typing = counted('server exited unexpectedly');
    await expect(typing.client.sendText('%1', 'hello')).rejects.toMatchObject({ code: 'TMUX_FAILED' });
    await expect(typing.client.sendKeys('%1', ['C-c'])).rejects.toMatchObject({ code: 'TMUX_FAILED' });
    await expect(typing.client.respawnPane({ target: '%1', cwd: dir, command: 'true', kill: true })).rejects.toMatchObject({ code: 'TMUX_FAILED' });
    expect(typing.calls()).toBe(3);
    const other = counted("can't find pane: %1");
    await expect(other.client.capturePane('%1', 5)).rejects.toMatchObject({ code: 'TMUX_FAILED' });
    expect(other.calls()).toBe(1);
  });

  it('tells the message from others', () => {
    expect(isServerExited('server exited unexpectedly')).toBe(true);
    expect(isServerExited('server exited unexpectedly\n')).toBe(true);
    expect(isServerExited('no server running on /tmp/tmux-0/cf')).toBe(false);
    expect(isServerExited("can't find session: server exited unexpectedly")).toBe(false);
    expect(isServerExited('')).toBe(false);
  });
});
