/** Ordered schema migrations; the database's `user_version` is the number applied. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
  CREATE TABLE ledger (
    account TEXT PRIMARY KEY,
    exhausted INTEGER NOT NULL DEFAULT 0,
    kind TEXT, resets_at INTEGER, reset_guessed INTEGER NOT NULL DEFAULT 0,
    usage_percent REAL, usage_resets_at INTEGER, source TEXT, detected_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE swaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    from_account TEXT, to_account TEXT, at INTEGER NOT NULL,
    result TEXT NOT NULL, reason TEXT, trigger TEXT NOT NULL
  );
  CREATE TABLE journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    from_account TEXT, to_account TEXT NOT NULL, trigger TEXT NOT NULL,
    snapshot TEXT, opened_at INTEGER NOT NULL, closed_at INTEGER, outcome TEXT
  );
  CREATE TABLE journal_steps (
    journal_id INTEGER NOT NULL REFERENCES journal(id), step TEXT NOT NULL, at INTEGER NOT NULL, data TEXT
  );
  CREATE TABLE flags (name TEXT PRIMARY KEY, reason TEXT, since INTEGER NOT NULL);
  CREATE TABLE jobs (key TEXT PRIMARY KEY, kind TEXT NOT NULL, run_at INTEGER NOT NULL, payload TEXT);
  CREATE TABLE sessions (
    name TEXT PRIMARY KEY, pane_id TEXT, session_id TEXT, cwd TEXT, account TEXT, state TEXT,
    pid INTEGER, transcript_path TEXT, last_error TEXT, launched_at INTEGER,
    restarts INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_pane ON sessions(pane_id);
  CREATE INDEX sessions_by_session_id ON sessions(session_id);
  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, prompt TEXT NOT NULL, target TEXT,
    state TEXT NOT NULL DEFAULT 'queued', session TEXT, result TEXT,
    created_at INTEGER NOT NULL, claimed_at INTEGER, done_at INTEGER
  );
  `,
  // Columns written and never read: the daemon keeps a session's pid, transcript path and a
  // limit's detection time nowhere it could use them (its log has the detection).
  `
  ALTER TABLE sessions DROP COLUMN pid;
  ALTER TABLE sessions DROP COLUMN transcript_path;
  ALTER TABLE ledger DROP COLUMN detected_at;
  ALTER TABLE jobs DROP COLUMN payload;
  `,
  // The task queue, as the dispatcher uses it (the first table was never used).
  `
  DROP TABLE tasks;
  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prompt TEXT NOT NULL, cwd TEXT, target TEXT, mode TEXT NOT NULL DEFAULT 'fresh',
    priority INTEGER NOT NULL DEFAULT 0, timeout_ms INTEGER, max_attempts INTEGER NOT NULL DEFAULT 2,
    state TEXT NOT NULL DEFAULT 'queued', claimed_by TEXT, session TEXT, session_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,
    result TEXT, error TEXT
  );
  CREATE INDEX tasks_queued ON tasks(state, priority DESC, id);
  `,
  // Usage readings over time, per account and window (five_hour, seven_day): the forecast's input.
  `
  CREATE TABLE usage_readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL, window_kind TEXT NOT NULL, percent REAL NOT NULL,
    resets_at INTEGER, at INTEGER NOT NULL, source TEXT NOT NULL
  );
  CREATE INDEX usage_readings_by_window ON usage_readings(account, window_kind, at);
  `,
  // When the ledger's latest usage was read (updated_at moves with every change of the row): the fleet orders readings by it.
  `ALTER TABLE ledger ADD COLUMN usage_at INTEGER;`,
];
