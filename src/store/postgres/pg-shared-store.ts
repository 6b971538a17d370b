import { existsSync, statSync } from 'node:fs';
import pg from 'pg';
import type { SharedStoreConfig } from '../../config/types.js';
import type { SwapRecord } from '../store.js';
import { RESERVATION_MS, SILENT_AFTER_MS, type FleetHost, type PublishedLimit, type SharedLedgerRow, type SharedLimit, type SharedStore } from '../shared-store.js';
import { FailoverError } from '../../errors.js';
import { connectPool, inTransaction, poolOptions, sharedStoreError } from './pg-connect.js';
import { describeDatabase } from './database-url.js';
import { migrateShared } from './pg-migrations.js';
import { createPgTaskQueue } from './pg-task-queue.js';

type Row = Record<string, unknown>;
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const date = (v: unknown): Date | null => (v instanceof Date ? v : null);

/** An arbitrary constant: the advisory lock a host takes while it chooses an account (fleet.spread). */
export const SPREAD_LOCK = 7_140_002;
/** How long a host waits for the spread lock before choosing without it. */
const SPREAD_LOCK_WAIT_MS = 2000;

/** The channel every ledger change is announced on (payload: the account). */
export const LEDGER_CHANNEL = 'cf_ledger';

const RANK: Record<string, number> = { guess: 0, text: 1, epoch: 2 };
/** How exact a ledger source's reset is (`hook:epoch` → 2); a guessed reset ranks lowest. */
const rankOf = (source: string | null, guessed: boolean): number => (guessed || !source ? 0 : (RANK[source.split(':')[1] ?? ''] ?? 1));

function ledgerRow(r: Row): SharedLedgerRow {
  return {
    account: String(r.account),
    exhausted: r.exhausted === true,
    kind: text(r.kind),
    resetsAt: date(r.resets_at),
    resetGuessed: r.reset_guessed === true,
    source: text(r.source),
    host: text(r.host),
    seq: Number(r.seq ?? 0),
    usagePercent: r.usage_percent === null || r.usage_percent === undefined ? null : Number(r.usage_percent),
    usageResetsAt: date(r.usage_resets_at),
    usageAt: date(r.usage_at),
  };
}

export interface PgSharedStoreOptions {
  readonly config: SharedStoreConfig;
  readonly host: string;
  /** This host's own id (its state dir's, kept across restarts): only it may heartbeat as `host`. */
  readonly instance?: string;
  readonly leaseMs: number;
  readonly now?: () => Date;
  /** A broken idle connection (the server restarting): reported, never thrown. */
  readonly onConnectionError?: (message: string) => void;
}

const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/**
 * The SharedStore in PostgreSQL. Nothing is connected until `prepare` (or a first query): a
 * host whose database is down at start still starts, degraded, and prepares it later.
 */
export function openPgSharedStore(options: PgSharedStoreOptions): SharedStore {
  const { config, host } = options;
  const now = options.now ?? (() => new Date());
  const where = describeDatabase(config.url);
  const pool = connectPool(config, options.onConnectionError ?? (() => undefined));
  let prepared = false;
  const prepare = async () => {
    if (prepared) return;
    try {
      await migrateShared(pool, where);
      prepared = true;
    } catch (err) {
      throw sharedStoreError(`the shared database at ${where} could not be prepared`, err, config.url);
    }
  };
  const query = async (sql: string, params: unknown[] = []): Promise<Row[]> => (await pool.query(sql, params)).rows as Row[];
  const tasks = createPgTaskQueue(pool, { host, leaseMs: options.leaseMs, now, cwdHere: isDirectory });

  const publishLimit = (limit: SharedLimit): Promise<PublishedLimit> =>
    inTransaction(pool, async (client) => {
      await client.query('INSERT INTO ledger (account) VALUES ($1) ON CONFLICT (account) DO NOTHING', [limit.account]);
      const current = ledgerRow((await client.query('SELECT * FROM ledger WHERE account = $1 FOR UPDATE', [limit.account])).rows[0] as Row);
      const standing = current.exhausted && current.resetsAt !== null && current.resetsAt > now();
      const set = 'exhausted = true, kind = $2, resets_at = $3, reset_guessed = $4, source = $5, updated_at = now()';
      const values = [limit.account, limit.kind, limit.resetsAt, limit.resetGuessed, limit.source];
      if (!standing) {
        // A new exhaustion for the whole fleet: this host saw it first.
        const seq = current.seq + 1;
        await client.query(`UPDATE ledger SET ${set}, host = $6, seq = $7 WHERE account = $1`, [...values, limit.host, seq]);
        await client.query('SELECT pg_notify($1, $2)', [LEDGER_CHANNEL, limit.account]);
        return { fresh: true, seq };
      }
      if (rankOf(limit.source, limit.resetGuessed) > rankOf(current.source, current.resetGuessed)) {
        await client.query(`UPDATE ledger SET ${set} WHERE account = $1`, values);
        await client.query('SELECT pg_notify($1, $2)', [LEDGER_CHANNEL, limit.account]);
      }
      return { fresh: false, seq: current.seq };
    });

  return {
    kind: 'postgres',
    tasks,
    prepare,
    ledger: async () => (await query('SELECT * FROM ledger ORDER BY account')).map(ledgerRow),
    publishLimit,
    publishUsage: async (account, usage) => {
      await query(
        `INSERT INTO ledger (account, usage_percent, usage_resets_at, usage_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account) DO UPDATE SET usage_percent = $2, usage_resets_at = $3, usage_at = $4
         WHERE ledger.usage_at IS NULL OR ledger.usage_at < $4`,
        [account, usage.percent, usage.resetsAt, usage.at],
      );
    },
    addSwaps: async (swapHost, swaps: readonly SwapRecord[]) => {
      for (const s of swaps) {
        await query(
          'INSERT INTO swaps (host, instance, local_id, from_account, to_account, at, result, reason, trigger) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING',
          [swapHost, options.instance ?? '', s.id, s.from, s.to, s.at, s.result, s.reason, s.trigger],
        );
      }
    },
    lastSwapId: async (swapHost) => {
      const instance = options.instance ?? '';
      // Rows written under this name by a daemon not yet upgraded (no instance) are this daemon's
      // own, from before its upgrade: adopted, not sent again.
      if (instance !== '') {
        await query(
          `UPDATE swaps SET instance = $2 WHERE host = $1 AND instance = ''
             AND NOT EXISTS (SELECT 1 FROM swaps mine WHERE mine.host = $1 AND mine.instance = $2 AND mine.local_id = swaps.local_id)`,
          [swapHost, instance],
        );
      }
      return Number((await query('SELECT COALESCE(MAX(local_id), 0) AS id FROM swaps WHERE host = $1 AND instance = $2', [swapHost, instance]))[0]?.id ?? 0);
    },
    listSwaps: async (limit) =>
      (await query('SELECT * FROM swaps ORDER BY at DESC LIMIT $1', [limit])).map((r) => ({
        id: Number(r.local_id),
        host: String(r.host),
        from: text(r.from_account),
        to: text(r.to_account),
        at: date(r.at) ?? new Date(0),
        result: String(r.result) as SwapRecord['result'],
        reason: text(r.reason),
        trigger: String(r.trigger),
      })),
    claimNotification: async (key, claimer) => (await query('INSERT INTO notifications (key, host) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key', [key, claimer])).length === 1,
    heartbeat: async (h) => {
      const instance = options.instance;
      if (!instance) throw new Error('a heartbeat needs this host\'s instance id');
      // The name is this instance's unless another one has used it within SILENT_AFTER_MS: two
      // daemons under one fleet.host would renew and requeue each other's tasks and swaps.
      const written = await query(
        `INSERT INTO hosts (name, instance, last_seen, active_account, sessions, running_tasks, degraded) VALUES ($1, $2, now(), $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET instance = $2, last_seen = now(), active_account = $3, sessions = $4, running_tasks = $5, degraded = $6,
           moving_to = CASE WHEN hosts.moving_to = $3 THEN NULL ELSE hosts.moving_to END
         WHERE hosts.instance IS NULL OR hosts.instance = $2 OR hosts.last_seen < now() - make_interval(secs => $7)
         RETURNING name`,
        [h.name, instance, h.activeAccount, h.sessions, h.runningTasks, h.degraded, SILENT_AFTER_MS / 1000],
      );
      if (written.length === 1) return;
      const other = (await query('SELECT EXTRACT(EPOCH FROM now() - last_seen) AS ago FROM hosts WHERE name = $1', [h.name]))[0];
      const ago = Math.max(0, Math.round(Number(other?.ago ?? 0)));
      throw new FailoverError(
        'FLEET_HOST_TAKEN',
        `fleet.host "${h.name}" is in use by another claude-failover daemon (it reported ${String(ago)} s ago to the shared database at ${where}): give each host its own fleet.host`,
      );
    },
    chooseSpread: (chooser, choose) =>
      inTransaction(pool, async (client) => {
        // A host that died holding the lock (its connection not yet seen dead) must not hold every
        // other host's swap: past the timeout the choice is made from the hosts as last read.
        await client.query(`SET LOCAL lock_timeout = '${String(SPREAD_LOCK_WAIT_MS)}ms'`);
        await client.query(`SET LOCAL idle_in_transaction_session_timeout = '${String(SPREAD_LOCK_WAIT_MS * 3)}ms'`);
        await client.query('SELECT pg_advisory_xact_lock($1)', [SPREAD_LOCK]);
        const { rows } = await client.query<{ account: string | null }>(
          `SELECT CASE WHEN moving_to IS NOT NULL AND moving_since > now() - make_interval(secs => $3) THEN moving_to ELSE active_account END AS account
           FROM hosts WHERE name <> $1 AND last_seen > now() - make_interval(secs => $2)`,
          [chooser, SILENT_AFTER_MS / 1000, RESERVATION_MS / 1000],
        );
        const load = new Map<string, number>();
        for (const { account } of rows) if (account) load.set(account, (load.get(account) ?? 0) + 1);
        const { result, account } = choose(load);
        if (account) await client.query('UPDATE hosts SET moving_to = $2, moving_since = now() WHERE name = $1', [chooser, account]);
        return result;
      }),
    hosts: async () =>
      (await query('SELECT * FROM hosts ORDER BY name')).map(
        (r): FleetHost => ({ name: String(r.name), lastSeen: date(r.last_seen) ?? new Date(0), activeAccount: text(r.active_account), sessions: Number(r.sessions), runningTasks: Number(r.running_tasks), degraded: r.degraded === true }),
      ),
    checkRunnable: async (hasSession) => {
      const waiting = await tasks.checkRunnable(hasSession);
      // Judged by the database's clock, as every heartbeat is written: a host's own clock may be off.
      const live = await query('SELECT name FROM hosts WHERE now() - last_seen <= make_interval(secs => $1) ORDER BY name', [SILENT_AFTER_MS / 1000]);
      return { waiting, live: live.map((r) => String(r.name)) };
    },
    renewLeases: async () => {
      await tasks.renewLeases();
    },
    onLedgerChange: async (listener, onLost) => {
      // LISTEN needs a connection of its own for as long as it listens: not one of the pool's.
      const client = new pg.Client(poolOptions(config));
      client.on('error', (err) => { onLost(sharedStoreError('the ledger listener lost its connection', err, config.url)); });
      client.on('end', () => { onLost(new Error('the ledger listener connection ended')); });
      client.on('notification', () => { listener(); });
      try {
        await client.connect();
        await client.query(`LISTEN ${LEDGER_CHANNEL}`);
      } catch (err) {
        client.removeAllListeners('end');
        await client.end().catch(() => undefined);
        throw sharedStoreError('the ledger listener could not connect', err, config.url);
      }
      return async () => {
        client.removeAllListeners('end');
        await client.end().catch(() => undefined);
      };
    },
    close: async () => {
      await pool.end().catch(() => undefined);
    },
  };
}
