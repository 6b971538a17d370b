import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { SharedStoreConfig } from '../../config/types.js';
import { FailoverError, describeError } from '../../errors.js';
import { redactSecrets } from '../../log.js';
import { urlSecrets } from './database-url.js';

/** A fault of the shared database, its message scrubbed of the URL and password. */
export function sharedStoreError(what: string, err: unknown, url: string): FailoverError {
  return new FailoverError('SHARED_STORE', `${what}: ${redactSecrets(describeError(err), urlSecrets(url))}`);
}

/** The pool options: pooled connections, timeouts so nothing waits forever on a lost database, TLS when asked. */
export function poolOptions(config: SharedStoreConfig): pg.PoolConfig {
  const tls = config.tls;
  return {
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // A query on a connection that went silent (the database host gone) fails instead of hanging.
    query_timeout: 15_000,
    keepAlive: true,
    application_name: 'claude-failover',
    ...(tls
      ? {
          ssl: {
            rejectUnauthorized: tls.rejectUnauthorized,
            ...(tls.ca ? { ca: readFileSync(tls.ca, 'utf8') } : {}),
            ...(tls.cert ? { cert: readFileSync(tls.cert, 'utf8') } : {}),
            ...(tls.key ? { key: readFileSync(tls.key, 'utf8') } : {}),
          },
        }
      : {}),
  };
}

/**
 * A connection pool to the shared database. An idle connection that breaks (the server
 * restarting) is reported to `onIdleError`, never thrown: the daemon goes on without it.
 */
export function connectPool(config: SharedStoreConfig, onIdleError: (message: string) => void): pg.Pool {
  const pool = new pg.Pool(poolOptions(config));
  pool.on('error', (err) => { onIdleError(redactSecrets(describeError(err), urlSecrets(config.url))); });
  return pool;
}

/** Runs `work` in one transaction on one connection. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A connection a transaction failed on (a timeout, a lost server) is closed, not handed out again.
    client.release(failed);
  }
}
