import { existsSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { TaskQueue } from '../store/task-queue.js';
import { openStore, storeFile } from '../store/sqlite-store.js';
import { openPreparedSharedStore } from '../store/open-shared-store.js';
import { stateDirProblem } from '../store/state-dir.js';

/**
 * The task queue a command works on: the fleet's in the shared database (store.shared), else
 * the state dir's (the daemon's own, shared through SQLite's WAL). Null with the reason when
 * there is none yet.
 */
export async function openQueueFor(config: Config): Promise<{ queue: TaskQueue; close: () => Promise<void> } | { queue: null; problem: string }> {
  const shared = config.store.shared;
  if (shared) {
    const store = await openPreparedSharedStore(config, shared);
    return { queue: store.tasks, close: () => store.close() };
  }
  if (!existsSync(storeFile(config.stateDir))) {
    return { queue: null, problem: stateDirProblem(config.stateDir) ?? `no task queue in ${config.stateDir} yet: the daemon has never run with this config (start it with: claude-failover run)` };
  }
  const store = openStore(config.stateDir);
  return {
    queue: store.tasks,
    close: () => {
      store.close();
      return Promise.resolve();
    },
  };
}
