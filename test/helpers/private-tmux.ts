import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A unique tmux socket name (`tmux -L <name>`), so tests never touch the user's server. */
export function privateSocketName(label = 'cf-test'): string {
  return `${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Kills the private server; a server that is already gone is fine. */
export function killPrivateServer(socket: string): void {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // no server running on that socket
  }
}
