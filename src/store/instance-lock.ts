import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailoverError, errnoCode } from '../errors.js';
import { ensureStateDir } from './state-dir.js';
import { processAlive as alive } from '../process-alive.js';

/**
 * One daemon per state dir. The lock file is created by `link()` of a file that already
 * holds our pid, which fails if the lock exists: no window where a lock has no owner. A
 * lock whose pid is dead is stale and is taken over.
 */
export function acquireInstanceLock(stateDir: string): { release(): void } {
  ensureStateDir(stateDir);
  const lock = join(stateDir, 'daemon.lock');
  const mine = join(stateDir, `daemon.lock.${process.pid}`);
  writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, lock);
        return {
          release: () => {
            try {
              if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
            } catch {
              // already gone
            }
          },
        };
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw new FailoverError('INSTANCE_LOCK_FAILED', `cannot create ${lock}: ${errnoCode(err) ?? String(err)}`, { cause: err });
      }
      let holder = NaN;
      try {
        holder = Number(readFileSync(lock, 'utf8').trim());
      } catch {
        continue; // released between our link and our read: try again
      }
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        throw new FailoverError('INSTANCE_LOCKED', `another claude-failover daemon (pid ${holder}) already uses ${stateDir}`);
      }
      // Stale: remove it only if it still names the dead pid, then race for it again.
      try {
        if (Number(readFileSync(lock, 'utf8').trim()) === holder) unlinkSync(lock);
      } catch {
        // someone else took it over first
      }
    }
    throw new FailoverError('INSTANCE_LOCKED', `could not take the lock ${lock}`);
  } finally {
    try {
      unlinkSync(mine);
    } catch {
      // nothing to clean
    }
  }
}
