import type { TaskQueue } from './task-queue.js';

/**
 * Persistence behind one interface: the active account, the ledger, swaps, the swap
 * journal, flags, scheduled jobs, the session registry and tasks. SQLite implements it
 * (sqlite-store.ts); nothing here names SQLite, so a shared database could take its place.
 */
export type SessionState = 'idle' | 'working' | 'limited' | 'starting' | 'dead';
export type SwapResult = 'done' | 'cancelled' | 'partial' | 'no-target';

export interface LedgerEntry {
  readonly account: string;
  readonly exhausted: boolean;
  readonly kind: string | null;
  readonly resetsAt: Date | null;
  readonly resetGuessed: boolean;
  readonly usagePercent: number | null;
  readonly usageResetsAt: Date | null;
  /** When the latest usage was read (where it was read: here, or on another host of the fleet). */
  readonly usageAt: Date | null;
  readonly source: string | null;
  readonly updatedAt: Date;
}

export interface SwapRecord {
  readonly id: number;
  readonly from: string | null;
  readonly to: string | null;
  readonly at: Date;
  readonly result: SwapResult;
  readonly reason: string | null;
  readonly trigger: string;
}

export interface JournalEntry {
  readonly id: number;
  readonly from: string | null;
  readonly to: string;
  readonly trigger: string;
  readonly snapshot: unknown;
  readonly steps: readonly { readonly step: string; readonly at: Date; readonly data: unknown }[];
}

export interface Flag {
  readonly set: boolean;
  readonly reason: string | null;
  readonly since: Date | null;
}

export interface Job {
  readonly key: string;
  readonly kind: string;
  readonly runAt: Date;
}

export interface SessionRecord {
  readonly name: string;
  readonly paneId: string | null;
  readonly sessionId: string | null;
  readonly cwd: string | null;
  readonly account: string | null;
  readonly state: SessionState | null;
  readonly lastError: string | null;
  readonly launchedAt: Date | null;
  readonly restarts: number;
  readonly updatedAt: Date;
}

export type SessionUpdate = { readonly name: string } & Partial<Omit<SessionRecord, 'name' | 'updatedAt'>>;

/** The usage windows Claude Code reports (statusline `rate_limits`, the usage endpoint). */
export type UsageWindow = 'five_hour' | 'seven_day';
export const USAGE_WINDOWS: readonly UsageWindow[] = ['five_hour', 'seven_day'];

/** One reading of how much of a window an account has used. */
export interface UsageReading {
  readonly account: string;
  readonly window: UsageWindow;
  /** 0–100. */
  readonly percent: number;
  readonly resetsAt: Date | null;
  readonly at: Date;
  /** Where it came from: `statusline`, `limit` (a limit record: 100%), `poll` (the usage endpoint). */
  readonly source: string;
}


export interface Store {
  /**
   * This state dir's own id, made at its first use and kept: what tells this host's daemon
   * (before and after a restart) from another one under the same fleet.host.
   */
  instanceId(): string;
  getActiveAccount(): string | null;
  setActiveAccount(name: string): void;

  getLedger(): LedgerEntry[];
  getLedgerEntry(account: string): LedgerEntry | null;
  markExhausted(account: string, limit: { kind: string; resetsAt: Date | null; resetGuessed: boolean; source: string; detectedAt: Date }): void;
  clearExhausted(account: string): void;
  /** The latest usage of an account; `at`: when it was read (default now). */
  recordUsage(account: string, usage: { percent: number; kind: string; resetsAt: Date | null; at?: Date }): void;
  /**
   * Keeps a usage reading beside the ledger's latest (`at` defaults to now). Pruned as it goes:
   * at most a few hundred per account and window, none older than the weekly window.
   */
  addUsageReading(reading: Omit<UsageReading, 'at'> & { readonly at?: Date }): void;
  /** An account's readings of one window, oldest first (from `since` on, when given). */
  usageReadings(account: string, window: UsageWindow, since?: Date): UsageReading[];
  /** An account's latest reading of one window (null: none kept). */
  latestUsageReading(account: string, window: UsageWindow): UsageReading | null;

  addSwap(swap: Omit<SwapRecord, 'id'>): number;
  listSwaps(limit: number): SwapRecord[];

  openJournal(entry: { from: string | null; to: string; trigger: string; snapshot: unknown }): number;
  journalStep(id: number, step: string, data?: unknown): void;
  closeJournal(id: number, outcome: string): void;
  unfinishedJournal(): JournalEntry | null;

  getFlag(name: string): Flag;
  setFlag(name: string, reason: string): void;
  clearFlag(name: string): void;

  scheduleJob(job: { key: string; kind: string; runAt: Date }): void;
  listJobs(): Job[];
  dueJobs(now: Date): Job[];
  deleteJob(key: string): void;

  upsertSession(update: SessionUpdate): void;
  getSession(name: string): SessionRecord | null;
  listSessions(): SessionRecord[];
  /**
   * Grows with every write to the session registry made through this store (the daemon is
   * its only writer): equal values mean the registry has not changed in between.
   */
  sessionsVersion(): number;
  findSessionByPane(paneId: string): SessionRecord | null;
  findSessionBySessionId(sessionId: string): SessionRecord | null;

  /** The task queue, in the same database. */
  readonly tasks: TaskQueue;

  /** Runs `work` as one transaction: every write in it lands, or none does. */
  atomically<T>(work: () => T): T;

  /** A cheap write probe for /healthz. */
  writable(): boolean;
  close(): void;
}
