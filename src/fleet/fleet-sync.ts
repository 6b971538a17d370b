import type { Logger } from '../log.js';
import type { LedgerEntry, Store } from '../store/store.js';
import type { FleetHost, SharedLedgerRow, SharedStore } from '../store/shared-store.js';
import type { Notifier } from '../notify/notifier.js';
import type { LimitEvent } from '../monitor/limit-event.js';
import { precisionOfSource } from '../monitor/limit-event.js';
import type { LimitKind } from '../claude/limit-text.js';
import { describeError, FailoverError } from '../errors.js';
import { FleetHealth } from './fleet-health.js';
import { UnrunnableTasks } from './unrunnable-tasks.js';

export interface FleetSyncDeps {
  /** This host's own store: the local ledger is its working copy of the fleet's. */
  readonly store: Store;
  readonly shared: SharedStore;
  readonly host: string;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Where the fleet's notifications go (the limit, a lost or regained database). */
  readonly notifier: Notifier;
  /** A limit another host saw, given to the monitor as a limit seen "from the fleet". */
  readonly applyLimit: (event: LimitEvent) => void;
  /** What this host's heartbeat says of it. */
  readonly hostState: () => Promise<Omit<FleetHost, 'name' | 'lastSeen' | 'degraded'>>;
  /** How a database may be named in messages (never its URL). */
  readonly where: string;
  /** Takes anything secret (the database's URL, its password) out of a fault's message. */
  readonly scrub?: (text: string) => string;
  /** The polling fallback's period (LISTEN/NOTIFY wakes a pass at once). */
  readonly intervalMs?: number;
  /** Whether this host has a session that may take a task for a target (null: an autonomous one). */
  readonly hasSession: (target: string | null) => boolean;
}

/** A limit's identity as this host last wrote or applied it: nothing is sent or applied twice. */
const limitKey = (e: { resetsAt: Date | null; source: string | null; resetGuessed: boolean }) => `${String(e.resetsAt?.getTime())}|${String(e.source)}|${String(e.resetGuessed)}`;
const usageKey = (percent: number | null, resetsAt: Date | null) => `${String(percent)}|${String(resetsAt?.getTime())}`;
const fromFleet = (source: string | null) => source?.startsWith('fleet:') === true;

/**
 * Keeps this host's ledger and the fleet's in step. Each pass (every second, and at once when
 * a limit is seen here or LISTEN/NOTIFY says another host changed the ledger): this host's
 * limits, swaps and usage go to the shared store; the other hosts' limits come back and are
 * handed to the monitor, so the switcher leaves an account the moment any host sees it run
 * out. A pass that fails marks the host degraded: it goes on with its own ledger, and the next
 * pass that succeeds writes back everything learnt meanwhile (the local ledger still has it).
 */
export class FleetSync {
  private readonly deps: FleetSyncDeps;
  private readonly pushedLimits = new Map<string, string>();
  private readonly appliedLimits = new Map<string, string>();
  private readonly usageSeen = new Map<string, string>();
  private lastSwapPushed: number | null = null;
  private stopListening: (() => Promise<void>) | null = null;
  private listening = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The pass in flight, and whether another was asked for meanwhile (it may have read the ledger already). */
  private current: Promise<void> | null = null;
  private again = false;
  private hostsCache: FleetHost[] = [];
  /** Set while another daemon holds this host's name in the shared database (FLEET_HOST_TAKEN). */
  private nameTakenBy: FailoverError | null = null;
  readonly health: FleetHealth;
  private readonly unrunnable: UnrunnableTasks;

  constructor(deps: FleetSyncDeps) {
    this.deps = deps;
    this.health = new FleetHealth({ host: deps.host, where: deps.where, notifier: deps.notifier, logger: deps.logger, now: deps.now });
    this.unrunnable = new UnrunnableTasks({ shared: deps.shared, host: deps.host, now: deps.now, logger: deps.logger, notifier: deps.notifier, hasSession: deps.hasSession });
  }

  /** Why this host may not report under its name, when another daemon holds it; else null. */
  get nameTaken(): FailoverError | null {
    return this.nameTakenBy;
  }

  /** The hosts as last read (`fleet status` and the status page read them from here). */
  get hosts(): readonly FleetHost[] {
    return this.hostsCache;
  }

  start(): void {
    const every = this.deps.intervalMs ?? 1000;
    this.timer = setInterval(() => { this.kick(); }, every);
    this.timer.unref();
    this.kick();
  }

  /** A pass as soon as possible (a limit seen here, a change announced by another host). */
  kick(): void {
    void this.syncNow();
  }

  /** A pass, awaited (the start-up, tests); one asked for during a pass runs right after it. */
  syncNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.current) {
      this.again = true;
      return this.current;
    }
    this.current = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.rerunAsked() && !this.halted());
    })().finally(() => { this.current = null; });
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.current;
    await this.stopListening?.().catch(() => undefined);
  }

  private rerunAsked(): boolean {
    return this.again;
  }

  private halted(): boolean {
    return this.stopped;
  }

  private async pass(): Promise<void> {
    const { shared, logger } = this.deps;
    try {
      await shared.prepare();
      // First: nothing is written under a name another daemon holds (its swaps, its leases).
      await shared.heartbeat({ name: this.deps.host, degraded: false, ...(await this.deps.hostState()) });
      this.nameTakenBy = null;
      await this.pushLimits();
      await this.pushSwaps();
      await this.pushUsage();
      this.applyLedger(await shared.ledger());
      await shared.renewLeases(this.deps.host);
      this.hostsCache = await shared.hosts();
      this.health.reached();
      await this.listen();
      await this.unrunnable.check();
    } catch (err) {
      // A pass cut short by the daemon stopping is no lost database.
      if (this.halted()) return;
      this.listening = false;
      this.unrunnable.lostTouch();
      const why = this.scrubbed(err);
      if (err instanceof FailoverError && err.code === 'FLEET_HOST_TAKEN') {
        // Not a lost database: said once as what it is; the host goes on with its own ledger meanwhile.
        if (!this.nameTakenBy) {
          logger.error({ host: this.deps.host }, why);
          this.deps.notifier.notify({ kind: 'fleet-host-taken', key: `fleet-host-taken:${this.deps.host}`, text: `${why}. This host goes on with its own ledger until the name is its own again.` });
        }
        this.nameTakenBy = err;
        return;
      }
      this.health.lost(why);
      logger.debug({ err: why }, 'fleet sync pass failed');
    }
  }

  /**
   * LISTEN for other hosts' ledger changes; polling goes on regardless, so a lost listener costs
   * a second at most. A listener that cannot start (no connection slot left for it, a pooler
   * without LISTEN) is no lost database: the pass stands, and the next one tries again.
   */
  private async listen(): Promise<void> {
    if (this.listening || this.stopped) return;
    this.listening = true;
    await this.stopListening?.().catch(() => undefined);
    this.stopListening = null;
    try {
      this.stopListening = await this.deps.shared.onLedgerChange(
        () => { this.kick(); },
        (err) => {
          this.listening = false;
          this.deps.logger.debug({ err: this.scrubbed(err) }, 'the fleet ledger listener stopped; polling until it is back');
        },
      );
    } catch (err) {
      this.listening = false;
      this.deps.logger.debug({ err: this.scrubbed(err) }, 'the fleet ledger listener could not start; polling until it can');
    }
  }

  private scrubbed(err: unknown): string {
    return (this.deps.scrub ?? ((t: string) => t))(describeError(err));
  }

  /** This host's own limits (not those it learnt from the fleet), each written once per reset it knows. */
  private async pushLimits(): Promise<void> {
    const { store, shared, notifier, logger, host } = this.deps;
    const now = this.deps.now();
    for (const entry of store.getLedger()) {
      if (!isStanding(entry, now) || fromFleet(entry.source) || !entry.resetsAt) continue;
      const key = limitKey(entry);
      if (this.pushedLimits.get(entry.account) === key) continue;
      const published = await shared.publishLimit({ account: entry.account, kind: entry.kind ?? 'unknown', resetsAt: entry.resetsAt, resetGuessed: entry.resetGuessed, source: entry.source ?? 'unknown', host });
      this.pushedLimits.set(entry.account, key);
      this.appliedLimits.set(entry.account, `${String(published.seq)}|${key}`);
      if (!published.fresh) continue;
      logger.info({ account: entry.account, seq: published.seq }, 'a limit seen here is now the fleet\'s');
      // One notification per limit for the whole fleet: the first host to claim its key sends it.
      // A claim that fails after the publish would lose it for good (the next pass finds the limit
      // published, not fresh), and each host's own swap off it is not announced: this host speaks.
      const claimed = await shared.claimNotification(`limit:${entry.account}:${String(published.seq)}`, host).catch((err: unknown) => {
        logger.warn({ account: entry.account, err: this.scrubbed(err) }, 'the limit notification could not be claimed for the fleet: sending it from here');
        return true;
      });
      if (claimed) {
        notifier.notify({
          kind: 'limit',
          key: `limit:${entry.account}:${String(published.seq)}`,
          text: `Account ${entry.account} hit its ${entry.kind ?? 'usage'} limit (seen on ${host}); it resets at ${entry.resetsAt.toISOString()}${entry.resetGuessed ? ' (guessed)' : ''}. Every host of the fleet moves off it.`,
          details: { account: entry.account, host, resetsAt: entry.resetsAt.toISOString(), seq: published.seq },
        });
      }
    }
  }

  /** Another host's limit, handed to the monitor once per change: the switcher moves off the account. */
  private applyLedger(rows: readonly SharedLedgerRow[]): void {
    const now = this.deps.now();
    for (const row of rows) {
      this.pullUsage(row);
      if (!row.exhausted || !row.resetsAt || row.resetsAt <= now) continue;
      const key = `${String(row.seq)}|${limitKey(row)}`;
      if (this.appliedLimits.get(row.account) === key) continue;
      this.appliedLimits.set(row.account, key);
      if (row.host === this.deps.host && this.pushedLimits.has(row.account)) continue;
      this.deps.logger.info({ account: row.account, host: row.host, resetsAt: row.resetsAt.toISOString() }, 'a limit from the fleet');
      // A fault applying it is this host's, not the database's: logged, the pass goes on.
      try {
        this.deps.applyLimit({
          account: row.account,
          kind: (row.kind ?? 'unknown') as LimitKind,
          resetsAt: row.resetsAt,
          precision: precisionOfSource(row.source, row.resetGuessed) ?? 'guess',
          source: 'fleet',
          detectedAt: now,
          session: null,
          text: `limit seen on ${row.host ?? 'another host'}`,
        });
      } catch (err) {
        this.deps.logger.warn({ account: row.account, err: describeError(err) }, 'a limit from the fleet could not be recorded');
      }
    }
  }

  private async pushSwaps(): Promise<void> {
    const { store, shared, host } = this.deps;
    this.lastSwapPushed ??= await shared.lastSwapId(host);
    const since = this.lastSwapPushed;
    const fresh = store.listSwaps(100).filter((s) => s.id > since).reverse();
    if (fresh.length === 0) return;
    await shared.addSwaps(host, fresh);
    this.lastSwapPushed = Math.max(...fresh.map((s) => s.id));
  }

  /** The latest usage reading of each account, when it changed here. */
  private async pushUsage(): Promise<void> {
    for (const entry of this.deps.store.getLedger()) {
      if (entry.usagePercent === null) continue;
      const key = usageKey(entry.usagePercent, entry.usageResetsAt);
      if (this.usageSeen.get(entry.account) === key) continue;
      await this.deps.shared.publishUsage(entry.account, { percent: entry.usagePercent, resetsAt: entry.usageResetsAt, at: entry.usageAt ?? entry.updatedAt });
      this.usageSeen.set(entry.account, key);
    }
  }

  /** Another host's newer reading becomes this host's latest (the target choice and spreading read it). */
  private pullUsage(row: SharedLedgerRow): void {
    if (row.usagePercent === null || row.usageAt === null) return;
    const key = usageKey(row.usagePercent, row.usageResetsAt);
    if (this.usageSeen.get(row.account) === key) return;
    const local = this.deps.store.getLedgerEntry(row.account);
    // Compared by when each was read, not when the local row last changed (a limit cleared, say).
    if (local && local.usagePercent !== null && (local.usageAt ?? local.updatedAt) >= row.usageAt) return;
    this.usageSeen.set(row.account, key);
    this.deps.store.recordUsage(row.account, { percent: row.usagePercent, kind: 'fleet', resetsAt: row.usageResetsAt, at: row.usageAt });
  }
}

function isStanding(entry: LedgerEntry, now: Date): boolean {
  return entry.exhausted && entry.resetsAt !== null && entry.resetsAt > now;
}
