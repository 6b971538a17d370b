import type pg from 'pg';
import { FailoverError } from '../../errors.js';
import { inTransaction } from './pg-connect.js';

/**
 * The shared database's own schema migrations, in order; `cf_schema.version` is the number
 * applied. Every host runs them at start under one advisory lock, so two hosts starting
 * together apply each once. Times are timestamptz; a lease is judged by the database's clock.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ledger (
    account text PRIMARY KEY,
    exhausted boolean NOT NULL DEFAULT false,
    kind text, resets_at timestamptz, reset_guessed boolean NOT NULL DEFAULT false,
    source text, host text, seq integer NOT NULL DEFAULT 0,
    usage_percent double precision, usage_resets_at timestamptz, usage_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE swaps (
    host text NOT NULL, local_id integer NOT NULL,
    from_account text, to_account text, at timestamptz NOT NULL,
    result text NOT NULL, reason text, trigger text NOT NULL,
    PRIMARY KEY (host, local_id)
  );
  CREATE INDEX swaps_by_time ON swaps (at DESC);
  CREATE TABLE notifications (key text PRIMARY KEY, host text NOT NULL, at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE hosts (
    name text PRIMARY KEY, last_seen timestamptz NOT NULL,
    active_account text, sessions integer NOT NULL DEFAULT 0,
    running_tasks integer NOT NULL DEFAULT 0, degraded boolean NOT NULL DEFAULT false
  );
  CREATE TABLE tasks (
    id bigserial PRIMARY KEY,
    prompt text NOT NULL, cwd text, target text, mode text NOT NULL DEFAULT 'fresh',
    priority integer NOT NULL DEFAULT 0, timeout_ms bigint, max_attempts integer NOT NULL DEFAULT 2,
    state text NOT NULL DEFAULT 'queued', claimed_by text, host text, lease_until timestamptz,
    session text, session_id text, attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL, started_at timestamptz, finished_at timestamptz,
    result text, error text
  );
  CREATE INDEX tasks_queued ON tasks (state, priority DESC, id);
  CREATE INDEX tasks_by_host ON tasks (host) WHERE host IS NOT NULL;
  `,
  // Which daemon a host name belongs to: a second one under the same fleet.host is refused.
  `ALTER TABLE hosts ADD COLUMN instance text;`,
  // fleet.spread: the account a host has chosen and is moving to, before its swap is done.
  `ALTER TABLE hosts ADD COLUMN moving_to text, ADD COLUMN moving_since timestamptz;`,
  // The hosts that found they cannot run a queued task (its cwd or its session is not theirs).
  `ALTER TABLE tasks ADD COLUMN cannot_run_on text[] NOT NULL DEFAULT '{}';`,
  // A host's swaps by daemon (its state dir's instance id): one reinstalled under an old name
  // numbers its swaps from 1 again, and they must not be taken for the old daemon's.
  `ALTER TABLE swaps ADD COLUMN instance text NOT NULL DEFAULT '';
   UPDATE swaps SET instance = hosts.instance FROM hosts WHERE hosts.name = swaps.host AND hosts.instance IS NOT NULL;
   ALTER TABLE swaps DROP CONSTRAINT swaps_pkey;
   ALTER TABLE swaps ADD PRIMARY KEY (host, instance, local_id);`,
];

/** An arbitrary constant: the advisory lock every host takes while migrating. */
const MIGRATION_LOCK = 7_140_001;

export async function migrateShared(pool: pg.Pool, where: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS cf_schema (version integer NOT NULL)');
    const rows = (await client.query<{ version: number }>('SELECT version FROM cf_schema')).rows;
    const version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO cf_schema (version) VALUES (0)');
    if (version > PG_MIGRATIONS.length) {
      throw new FailoverError('STORE_TOO_NEW', `the shared database at ${where} has schema version ${String(version)}, newer than this claude-failover knows (${String(PG_MIGRATIONS.length)}); upgrade claude-failover on this host`);
    }
    for (let v = version; v < PG_MIGRATIONS.length; v++) {
      await client.query(PG_MIGRATIONS[v] ?? '');
      await client.query('UPDATE cf_schema SET version = $1', [v + 1]);
    }
  });
}
