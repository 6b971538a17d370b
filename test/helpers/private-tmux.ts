import { randomBytes } from 'node:crypto';
import { endPrivateServer } from '../../src/tmux/end-server.js';

/** A unique tmux socket name (`tmux -L <name>`), so tests never touch the user's server. */
export function privateSocketName(label = 'cf-test'): string {
  return `${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Kills the private server and waits for its panes' processes to exit, so a temp dir they
 * write into can be removed after. A server that is already gone is fine.
 */
export async function killPrivateServer(socket: string): Promise<void> {
  await endPrivateServer(socket);
}
