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
