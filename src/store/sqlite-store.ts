import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FailoverError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';
import { ensureStateDir } from './state-dir.js';
import { createSqliteTaskQueue } from './sqlite-task-queue.js';
import type { Flag, Job, JournalEntry, LedgerEntry, SessionRecord, SessionUpdate, Store, SwapRecord, UsageReading, UsageWindow } from './store.js';

import { date, num, text, type Row } from './row.js';

const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : null);
const ms = (d: Date | null | undefined): number | null => (d ? d.getTime() : null);

function ledgerEntry(r: Row): LedgerEntry {
  return {
    account: String(r.account),
    exhausted: r.exhausted === 1,
    kind: text(r.kind),
    resetsAt: date(r.resets_at),
    resetGuessed: r.reset_guessed === 1,
    usagePercent: num(r.usage_percent),
    usageResetsAt: date(r.usage_resets_at),
    usageAt: date(r.usage_at),
    source: text(r.source),
    updatedAt: new Date(Number(r.updated_at)),
  };
}

function sessionRecord(r: Row): SessionRecord {
  return {
    name: String(r.name),
    paneId: text(r.pane_id),
    sessionId: text(r.session_id),
    cwd: text(r.cwd),
    account: text(r.account),
    state: text(r.state) as SessionRecord['state'],
    lastError: text(r.last_error),
    launchedAt: date(r.launched_at),
    restarts: Number(r.restarts ?? 0),
    updatedAt: new Date(Number(r.updated_at)),
  };
}


/** Readings kept per account and window: a reading a minute fills about five hours. */
const USAGE_READINGS_KEPT = 300;
/** Readings older than the weekly window and a day say nothing about any current window. */
const USAGE_READING_MAX_AGE_MS = 8 * 24 * 3600_000;

function usageReading(r: Row): UsageReading {
  return {
    account: String(r.account),
    window: String(r.window_kind) as UsageWindow,
    percent: Number(r.percent),
    resetsAt: date(r.resets_at),
    at: new Date(Number(r.at)),
    source: String(r.source),
  };
}

const SESSION_COLUMNS: Record<keyof Omit<SessionUpdate, 'name'>, string> = {
  paneId: 'pane_id',
  sessionId: 'session_id',
  cwd: 'cwd',
  account: 'account',
  state: 'state',
  lastError: 'last_error',
  launchedAt: 'launched_at',
  restarts: 'restarts',
};

/** Creates a file with mode 0600 before SQLite opens it (SQLite would use the umask). */
function touchPrivate(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/** The database file in a state dir: whether one exists tells whether a daemon ever ran there. */
export function storeFile(stateDir: string): string {
  return join(stateDir, 'state.db');
}

export function openStore(stateDir: string, options: { now?: () => Date } = {}): Store {
  const now = options.now ?? (() => new Date());
  ensureStateDir(stateDir);
  const file = storeFile(stateDir);
  touchPrivate(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  for (const extra of ['-wal', '-shm']) if (existsSync(file + extra)) chmodSync(file + extra, 0o600);
  migrate(db, file);

  const t = () => now().getTime();
  // Preparing is most of the cost of a small query: each SQL text is prepared once. The texts
  // are a fixed set (upsertSession's vary only by which columns it sets), so the map stays small.
  // better-sqlite3 statements need no finalize: db.close() releases them.
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const one = (sql: string, ...params: unknown[]) => prepared(sql).get(...params) as Row | undefined;
  const all = (sql: string, ...params: unknown[]) => prepared(sql).all(...params) as Row[];
  const exec = (sql: string, ...params: unknown[]) => prepared(sql).run(...params);
  const ensureLedger = (account: string) => exec('INSERT OR IGNORE INTO ledger (account, updated_at) VALUES (?, ?)', account, t());

  let sessionsVersion = 0;

  const store: Store = {
    atomically: (work) => db.transaction(work)(),
    instanceId: () => {
      exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('instance_id', ?)", randomUUID());
      return text(one("SELECT value FROM meta WHERE key = 'instance_id'")?.value) ?? '';
    },
    getActiveAccount: () => text(one("SELECT value FROM meta WHERE key = 'active_account'")?.value),
    setActiveAccount: (name) => {
      exec("INSERT INTO meta (key, value) VALUES ('active_account', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", name);
    },

    getLedger: () => all('SELECT * FROM ledger ORDER BY account').map(ledgerEntry),
    getLedgerEntry: (account) => {
      const r = one('SELECT * FROM ledger WHERE account = ?', account);
      return r ? ledgerEntry(r) : null;
    },
    markExhausted: (account, l) => {
      ensureLedger(account);
      exec('UPDATE ledger SET exhausted = 1, kind = ?, resets_at = ?, reset_guessed = ?, source = ?, updated_at = ? WHERE account = ?', l.kind, ms(l.resetsAt), l.resetGuessed ? 1 : 0, l.source, t(), account);
    },
    clearExhausted: (account) => {
      ensureLedger(account);
      exec('UPDATE ledger SET exhausted = 0, kind = NULL, resets_at = NULL, reset_guessed = 0, source = NULL, updated_at = ? WHERE account = ?', t(), account);
    },
    recordUsage: (account, u) => {
      ensureLedger(account);
      exec('UPDATE ledger SET usage_percent = ?, usage_resets_at = ?, usage_at = ?, updated_at = ? WHERE account = ?', u.percent, ms(u.resetsAt), u.at?.getTime() ?? t(), t(), account);
    },
    addUsageReading: (r) => {
      const at = r.at?.getTime() ?? t();
      exec('INSERT INTO usage_readings (account, window_kind, percent, resets_at, at, source) VALUES (?, ?, ?, ?, ?, ?)', r.account, r.window, r.percent, ms(r.resetsAt), at, r.source);
      exec(
        'DELETE FROM usage_readings WHERE account = ? AND window_kind = ? AND (at < ? OR id NOT IN (SELECT id FROM usage_readings WHERE account = ? AND window_kind = ? ORDER BY at DESC, id DESC LIMIT ?))',
        r.account, r.window, at - USAGE_READING_MAX_AGE_MS, r.account, r.window, USAGE_READINGS_KEPT,
      );
    },
    usageReadings: (account, window, since) =>
      all('SELECT * FROM usage_readings WHERE account = ? AND window_kind = ? AND at >= ? ORDER BY at, id', account, window, since?.getTime() ?? 0).map(usageReading),
    latestUsageReading: (account, window) => {
      const row = one('SELECT * FROM usage_readings WHERE account = ? AND window_kind = ? ORDER BY at DESC, id DESC LIMIT 1', account, window);
      return row ? usageReading(row) : null;
    },

    addSwap: (s) => Number(exec('INSERT INTO swaps (from_account, to_account, at, result, reason, trigger) VALUES (?, ?, ?, ?, ?, ?)', s.from, s.to, s.at.getTime(), s.result, s.reason, s.trigger).lastInsertRowid),
    listSwaps: (limit) =>
      all('SELECT * FROM swaps ORDER BY id DESC LIMIT ?', limit).map(
        (r): SwapRecord => ({ id: Number(r.id), from: text(r.from_account), to: text(r.to_account), at: new Date(Number(r.at)), result: String(r.result) as SwapRecord['result'], reason: text(r.reason), trigger: String(r.trigger) }),
      ),

    openJournal: (e) => Number(exec('INSERT INTO journal (from_account, to_account, trigger, snapshot, opened_at) VALUES (?, ?, ?, ?, ?)', e.from, e.to, e.trigger, JSON.stringify(e.snapshot ?? null), t()).lastInsertRowid),
    journalStep: (id, step, data) => {
      exec('INSERT INTO journal_steps (journal_id, step, at, data) VALUES (?, ?, ?, ?)', id, step, t(), data === undefined ? null : JSON.stringify(data));
    },
    closeJournal: (id, outcome) => {
      exec('UPDATE journal SET closed_at = ?, outcome = ? WHERE id = ?', t(), outcome, id);
    },
    unfinishedJournal: () => {
      const r = one('SELECT * FROM journal WHERE closed_at IS NULL ORDER BY id DESC LIMIT 1');
      if (!r) return null;
      const steps = all('SELECT * FROM journal_steps WHERE journal_id = ? ORDER BY rowid', r.id).map((s) => ({ step: String(s.step), at: new Date(Number(s.at)), data: json(s.data) }));
      return { id: Number(r.id), from: text(r.from_account), to: String(r.to_account), trigger: String(r.trigger), snapshot: json(r.snapshot), steps } satisfies JournalEntry;
    },

    getFlag: (name): Flag => {
      const r = one('SELECT * FROM flags WHERE name = ?', name);
      return r ? { set: true, reason: text(r.reason), since: date(r.since) } : { set: false, reason: null, since: null };
    },
    setFlag: (name, reason) => {
      exec('INSERT INTO flags (name, reason, since) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET reason = excluded.reason', name, reason, t());
    },
    clearFlag: (name) => {
      exec('DELETE FROM flags WHERE name = ?', name);
    },

    scheduleJob: (j) => {
      exec('INSERT INTO jobs (key, kind, run_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, run_at = excluded.run_at', j.key, j.kind, j.runAt.getTime());
    },
    listJobs: () => all('SELECT * FROM jobs ORDER BY run_at').map((r): Job => ({ key: String(r.key), kind: String(r.kind), runAt: new Date(Number(r.run_at)) })),
    dueJobs: (at) => all('SELECT * FROM jobs WHERE run_at <= ? ORDER BY run_at', at.getTime()).map((r): Job => ({ key: String(r.key), kind: String(r.kind), runAt: new Date(Number(r.run_at)) })),
    deleteJob: (key) => {
      exec('DELETE FROM jobs WHERE key = ?', key);
    },

    upsertSession: (u) => {
      exec('INSERT OR IGNORE INTO sessions (name, updated_at) VALUES (?, ?)', u.name, t());
      const sets: string[] = ['updated_at = ?'];
      const values: unknown[] = [t()];
      for (const [key, column] of Object.entries(SESSION_COLUMNS) as [keyof typeof SESSION_COLUMNS, string][]) {
        if (!(key in u) || u[key] === undefined) continue;
        const value = u[key];
        sets.push(`${column} = ?`);
        values.push(value instanceof Date ? value.getTime() : value);
      }
      exec(`UPDATE sessions SET ${sets.join(', ')} WHERE name = ?`, ...values, u.name);
      sessionsVersion++;
    },
    getSession: (name) => {
      const r = one('SELECT * FROM sessions WHERE name = ?', name);
      return r ? sessionRecord(r) : null;
    },
    listSessions: () => all('SELECT * FROM sessions ORDER BY name').map(sessionRecord),
    sessionsVersion: () => sessionsVersion,
    findSessionByPane: (paneId) => {
      const r = one('SELECT * FROM sessions WHERE pane_id = ? ORDER BY updated_at DESC LIMIT 1', paneId);
      return r ? sessionRecord(r) : null;
    },
    findSessionBySessionId: (sessionId) => {
      const r = one('SELECT * FROM sessions WHERE session_id = ? ORDER BY updated_at DESC LIMIT 1', sessionId);
      return r ? sessionRecord(r) : null;
    },

    tasks: createSqliteTaskQueue(db, now),

    writable: () => {
      try {
        exec("INSERT INTO meta (key, value) VALUES ('probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", String(t()));
        return true;
      } catch {
        return false;
      }
    },
    close: () => {
      statements.clear();
      db.close();
    },
  };
  return store;
}

function migrate(db: Database.Database, file: string): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > MIGRATIONS.length) {
    db.close();
    throw new FailoverError('STORE_TOO_NEW', `${file} has schema version ${version}, newer than this claude-failover knows (${MIGRATIONS.length}); upgrade claude-failover`);
  }
  const apply = db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  apply();
}
