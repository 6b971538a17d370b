import { execFile } from 'node:child_process';
import { waitForExit } from '../process-alive.js';

/**
 * Ends a private tmux server and resolves once the processes its panes ran have exited.
 * Killing the server only hangs them up: a Claude Code session still writes its transcript
 * and session file for a moment after, so whoever removes the directories they write into
 * must wait for them. A server that is not running is fine.
 */
export async function endPrivateServer(socket: string, timeoutMs = 10_000): Promise<void> {
  const panePids = await new Promise<number[]>((resolve) => {
    execFile('tmux', ['-L', socket, 'list-panes', '-a', '-F', '#{pane_pid}'], { timeout: 5000 }, (err, stdout) => {
      resolve(err ? [] : stdout.split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0));
    });
  });
  await new Promise((resolve) => execFile('tmux', ['-L', socket, 'kill-server'], { timeout: 5000 }, () => { resolve(null); }));
  await waitForExit(panePids, timeoutMs);
}
