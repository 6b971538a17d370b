import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, FailoverError } from '../errors.js';
import { plantedLinkProblem } from '../planted-link.js';

/** Left in a state dir claude-failover created, so a later start knows the directory is its own. */
export const STATE_DIR_MARKER = '.created-by-claude-failover';

const WHY: Readonly<Record<string, string>> = {
  ELOOP: 'its path runs into a loop of symbolic links',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of its path is not a directory',
  EEXIST: 'it exists and is not a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'its path is too long',
};

/**
 * Makes sure `stateDir` exists. A directory we create is 0700 and marked as ours. An existing
 * one that is group- or world-accessible is tightened back to 0700 only when it carries our
 * mark: a directory the user made (and perhaps shares on purpose) is left as it is, without a
 * word, since every file we keep in it (the database, its -wal/-shm, the lock) is 0600 anyway.
 * A state dir that cannot be made or used is a `STATE_DIR_UNUSABLE` fault naming it and why;
 * so is one that is a symbolic link: it may have been planted to send the database, the lock
 * and the sockets somewhere another user reads or controls (`STATE_DIR_IS_LINK`).
 */
export function ensureStateDir(stateDir: string): void {
  const planted = linkProblem(stateDir);
  if (planted !== null) throw new FailoverError('STATE_DIR_IS_LINK', planted);
  try {
    const marker = join(stateDir, STATE_DIR_MARKER);
    if (mkdirSync(stateDir, { recursive: true, mode: 0o700 }) !== undefined) {
      chmodSync(stateDir, 0o700); // whatever the umask or the platform did with mkdir's mode
      writeFileSync(marker, 'claude-failover created this directory and keeps it private (0700).\n', { mode: 0o600 });
      return;
    }
    if (existsSync(marker) && (statSync(stateDir).mode & 0o077) !== 0) chmodSync(stateDir, 0o700);
  } catch (err) {
    throw new FailoverError('STATE_DIR_UNUSABLE', `the state dir ${stateDir} cannot be made or used: ${fault(err)}`, { cause: err });
  }
}

const linkProblem = (stateDir: string): string | null => plantedLinkProblem(stateDir, 'state dir', 'keeps its state only in', 'stateDir');

function fault(err: unknown): string {
  const code = errnoCode(err);
  return code === undefined ? String(err) : `${WHY[code] ?? (err instanceof Error ? err.message : code)} (${code})`;
}

/** Why `stateDir` cannot be used as it stands (null: a directory, or not there yet), creating nothing. */
export function stateDirProblem(stateDir: string): string | null {
  const planted = linkProblem(stateDir);
  if (planted !== null) return planted;
  try {
    return statSync(stateDir).isDirectory() ? null : `the state dir ${stateDir} is not a directory`;
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? null : `the state dir ${stateDir} cannot be used: ${fault(err)}`;
  }
}
