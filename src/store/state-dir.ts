import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Left in a state dir claude-failover created, so a later start knows the directory is its own. */
export const STATE_DIR_MARKER = '.created-by-claude-failover';

/**
 * Makes sure `stateDir` exists. A directory we create is 0700 and marked as ours. An existing
 * one that is group- or world-accessible is tightened back to 0700 only when it carries our
 * mark: a directory the user made (and perhaps shares on purpose) is left as it is, without a
 * word, since every file we keep in it (the database, its -wal/-shm, the lock) is 0600 anyway.
 */
export function ensureStateDir(stateDir: string): void {
  const marker = join(stateDir, STATE_DIR_MARKER);
  if (mkdirSync(stateDir, { recursive: true, mode: 0o700 }) !== undefined) {
    chmodSync(stateDir, 0o700); // whatever the umask or the platform did with mkdir's mode
    writeFileSync(marker, 'claude-failover created this directory and keeps it private (0700).\n', { mode: 0o600 });
    return;
  }
  if (existsSync(marker) && (statSync(stateDir).mode & 0o077) !== 0) chmodSync(stateDir, 0o700);
}
