import type { Config, SharedStoreConfig } from '../config/types.js';
import type { SharedStore } from './shared-store.js';
import type { PgSharedStoreOptions } from './postgres/pg-shared-store.js';

/**
 * The PostgreSQL shared store (`store.shared`), its driver loaded only now: a single host, and
 * every command that does not need the database, never loads `pg` (~45 ms and ~15 MB).
 */
export async function openSharedStore(options: PgSharedStoreOptions): Promise<SharedStore> {
  const { openPgSharedStore } = await import('./postgres/pg-shared-store.js');
  return openPgSharedStore(options);
}

/** The shared store as a command opens it (this host's name and lease from the config; no heartbeat). */
export function openSharedStoreFor(config: Config, shared: SharedStoreConfig): Promise<SharedStore> {
  return openSharedStore({ config: shared, host: config.fleet.host, leaseMs: config.fleet.leaseMs });
}

/** Opened and prepared (connected, its schema up to date); closed again when preparing fails. */
export async function openPreparedSharedStore(config: Config, shared: SharedStoreConfig): Promise<SharedStore> {
  const store = await openSharedStoreFor(config, shared);
  try {
    await store.prepare();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
