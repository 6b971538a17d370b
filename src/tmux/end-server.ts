import { waitForExit } from '../process-alive.js';
import { createTmuxClient } from './client.js';

/**
 * Ends a private tmux server and resolves once the processes its panes ran have exited.
 * Killing the server only hangs them up: a Claude Code session still writes its transcript
 * and session file for a moment after, so whoever removes the directories they write into
 * must wait for them. A server that is not running is fine.
 */
export async function endPrivateServer(socket: string, timeoutMs = 10_000): Promise<void> {
  const tmux = createTmuxClient({ socket });
  const panePids = (await tmux.listPanes().catch(() => [])).map((p) => p.panePid).filter((pid) => pid > 0);
  await tmux.killServer();
  await waitForExit(panePids, timeoutMs);
}
