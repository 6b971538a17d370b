import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTmuxClient, type TmuxClient } from '../tmux/client.js';
import { shellQuote } from '../claude/shell-quote.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { deadStatusIn, lastWords, waitForScreen } from './session-waits.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const IDLE_SCREEN = ['✻ Welcome to Claude Code', '', '─'.repeat(40), '❯ ', '─'.repeat(40), '  ? for shortcuts'].join('\n');

describe('waitForScreen (real tmux)', () => {
  let socket = '';
  let dir = '';
  afterEach(async () => {
    await killPrivateServer(socket);
    await removeTempDir(dir);
  });

  /** A pane showing an idle Claude Code screen, and a client whose commands give up after 300 ms. */
  async function idlePane(): Promise<{ tmux: TmuxClient; paneId: string; serverPid: number }> {
    socket = privateSocketName('cf-waits');
    dir = await makeTempDir('cf-waits');
    const screen = join(dir, 'screen.txt');
    writeFileSync(screen, IDLE_SCREEN);
    const tmux = createTmuxClient({ socket, timeoutMs: 300 });
    const { paneId } = await tmux.newSession({ name: 'waits', cwd: dir, command: `cat ${shellQuote(screen)}; exec sleep 600` });
    const serverPid = Number(execFileSync('tmux', ['-L', socket, 'display-message', '-p', '#{pid}'], { encoding: 'utf8' }).trim());
    await waitForScreen(tmux, paneId, ['idle'], [], { timeoutMs: 10_000, intervalMs: 20, now: () => new Date(), sleep });
    return { tmux, paneId, serverPid };
  }

  it('asks again while tmux is too busy to answer in time (its server stopped): the pane is not gone', async () => {
    const { tmux, paneId, serverPid } = await idlePane();
    process.kill(serverPid, 'SIGSTOP');
    let resumed = false;
    try {
      // The first poll times out; the server goes on before the next.
      const waited = await waitForScreen(tmux, paneId, ['idle'], ['shell'], {
        timeoutMs: 20_000,
        intervalMs: 20,
        now: () => new Date(),
        sleep: async (ms) => {
          if (!resumed) {
            resumed = true;
            process.kill(serverPid, 'SIGCONT');
          }
          await sleep(ms);
        },
      });
      expect(resumed).toBe(true);
      expect(waited).toMatchObject({ reached: true, state: 'idle' });
    } finally {
      process.kill(serverPid, 'SIGCONT');
      tmux.close();
    }
  });

  it('gives up at once on a pane tmux says is not there', async () => {
    const { tmux, paneId } = await idlePane();
    execFileSync('tmux', ['-L', socket, 'kill-session', '-t', '=waits']);
    const waited = await waitForScreen(tmux, paneId, ['idle'], ['shell'], { timeoutMs: 20_000, intervalMs: 20, now: () => new Date(), sleep });
    expect(waited).toMatchObject({ reached: false, state: 'gone' });
    tmux.close();
  });
});

describe('lastWords', () => {
  it('keeps the last non-empty lines a dead launch printed', () => {
    expect(lastWords('one\n\ntwo\nthree\n\n', 2)).toBe('two\nthree');
  });

  it("drops tmux's own 'Pane is dead' line: a claude that exits without a word has no last words", () => {
    const dead = 'Pane is dead (status 0, Tue Dec  1 17:33:02 2026)';
    expect(lastWords(`\n\n${dead}\n`)).toBe('');
    expect(lastWords(`bash: line 1: /opt/bin/claude: No such file or directory\n\n${dead}\n`)).toBe('bash: line 1: /opt/bin/claude: No such file or directory');
  });

  it("reads the exit status from tmux's line when the pane list did not give it", () => {
    expect(deadStatusIn('x\nPane is dead (status 127, Tue Dec  1 17:33:02 2026)\n')).toBe(127);
    expect(deadStatusIn('still running')).toBeNull();
  });
});
