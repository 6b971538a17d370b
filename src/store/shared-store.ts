import type { SwapRecord } from './store.js';
import type { TaskQueue, WaitingTask } from './task-queue.js';

/**
 * What belongs to the accounts and the work rather than to one host: the ledger (limits and
 * the latest usage), the task queue, the swap history and notification de-duplication. A host's
 * own state (its link, pool, sessions, swap journal) stays in its local Store.
 *
 * Two implementations: embedded (the host's own SQLite: one host, nothing to set up) and
 * PostgreSQL (`store.shared`), which several hosts share. Asynchronous, as a database across a
 * network is: the fleet layer (src/fleet) keeps the local ledger as each host's synchronous
 * working copy and this store as the fleet's.
 */
export interface SharedLedgerRow {
  readonly account: string;
  /** Marked exhausted (its reset may have passed since: the reader judges by `resetsAt`). */
  readonly exhausted: boolean;
  readonly kind: string | null;
  readonly resetsAt: Date | null;
  readonly resetGuessed: boolean;
  /** `<signal>:<precision>` as the local ledger writes it (`hook:epoch`, `screen:text`, …). */
  readonly source: string | null;
  /** The host that saw the limit first. */
  readonly host: string | null;
  /** Grows by one with each new exhaustion of the account: a limit's identity in the fleet. */
  readonly seq: number;
  readonly usagePercent: number | null;
  readonly usageResetsAt: Date | null;
  readonly usageAt: Date | null;
}

export interface SharedLimit {
  readonly account: string;
  readonly kind: string;
  readonly resetsAt: Date;
  readonly resetGuessed: boolean;
  readonly source: string;
  readonly host: string;
}

/** What publishing a limit did: `fresh` when it is a new exhaustion for the fleet (no other host had it). */
export interface PublishedLimit {
  readonly fresh: boolean;
  readonly seq: number;
}

/**
 * A host not seen for this long is silent: stopped, or cut off from the shared database (it
 * cannot say it is degraded there; its own /healthz and status do). Its name may then be taken
 * by another daemon; before, a second daemon under the same name is refused.
 */
export const SILENT_AFTER_MS = 30_000;

/** How long a host's chosen account counts for it before its swap is done (a cancelled swap's choice lapses). */
export const RESERVATION_MS = 60_000;

/**
 * `fleet.spread`'s choice, run with how many other live hosts are on (or moving to) each
 * account: what it comes to, and the account this host moves to (null: it stays).
 */
export type SpreadChoose<T> = (load: ReadonlyMap<string, number>) => { readonly result: T; readonly account: string | null };

/** A host as the fleet sees it (`fleet status`). */
export interface FleetHost {
  readonly name: string;
  readonly lastSeen: Date;
  readonly activeAccount: string | null;
  readonly sessions: number;
  readonly runningTasks: number;
  /** The host lost the shared database and works on its own ledger. */
  readonly degraded: boolean;
}

export interface SharedStore {
  readonly kind: 'embedded' | 'postgres';
  readonly tasks: TaskQueue;
  /** Connects and brings the schema up to date (again after a failure; at once when done). */
  prepare(): Promise<void>;
  ledger(): Promise<SharedLedgerRow[]>;
  /** Records a limit: a new exhaustion, a more precise reset of a known one, or nothing new. */
  publishLimit(limit: SharedLimit): Promise<PublishedLimit>;
  /** The latest usage reading of an account (kept when newer than the one recorded). */
  publishUsage(account: string, usage: { readonly percent: number; readonly resetsAt: Date | null; readonly at: Date }): Promise<void>;
  /** A host's swaps, by their local ids (this daemon's: its instance id): written once each, however often they are sent. */
  addSwaps(host: string, swaps: readonly SwapRecord[]): Promise<void>;
  /** The highest local swap id this daemon has written under a host name (0: none; a reinstalled host starts again). */
  lastSwapId(host: string): Promise<number>;
  /** Every host's swaps, newest first. */
  listSwaps(limit: number): Promise<(SwapRecord & { readonly host: string })[]>;
  /** True for the first host to claim `key`: it alone sends that notification. */
  claimNotification(key: string, host: string): Promise<boolean>;
  /**
   * Says this host is alive. Throws FLEET_HOST_TAKEN when another daemon (another instance id)
   * has reported under the same name within SILENT_AFTER_MS.
   */
  heartbeat(host: Omit<FleetHost, 'lastSeen'>): Promise<void>;
  hosts(): Promise<FleetHost[]>;
  /**
   * `fleet.spread`: runs `choose` with how many other live hosts are on (or moving to) each
   * account, one host at a time across the fleet, and records the account it returns as where
   * `host` is moving (for RESERVATION_MS, or until its heartbeat reports it there). Hosts that
   * leave an account together (a fleet limit moves them all at once) so see each other's choice.
   */
  chooseSpread<T>(host: string, choose: SpreadChoose<T>): Promise<T>;
  /** Renews this host's leases on its claimed and running tasks; returns nothing of theirs. */
  renewLeases(host: string): Promise<void>;
  /**
   * Records whether this host can run each task waiting at the head of the queue (its cwd is a
   * directory here, and `hasSession` says this host has a session that may take its target:
   * the session of that name, or an autonomous one for none), and returns them with every host
   * that found it cannot, and the hosts live now (reported within SILENT_AFTER_MS by the
   * database's clock). A fleet of one returns none: a task is checked when it is queued.
   */
  checkRunnable(hasSession: (target: string | null) => boolean): Promise<{ readonly waiting: WaitingTask[]; readonly live: string[] }>;
  /** Calls `listener` whenever any host changes the ledger (LISTEN/NOTIFY); the returned function stops listening. */
  onLedgerChange(listener: () => void, onLost: (err: unknown) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
