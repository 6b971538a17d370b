import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { SILENT_AFTER_MS, type FleetHost, type SharedStore, type SpreadChoose } from '../store/shared-store.js';
import type { Notifier } from '../notify/notifier.js';
import type { LimitEvent } from '../monitor/limit-event.js';
import { openSharedStore } from '../store/open-shared-store.js';
import { describeDatabase, urlSecrets } from '../store/postgres/database-url.js';
import { redactSecrets } from '../log.js';
import { FleetSync } from './fleet-sync.js';
import { describeError, FailoverError } from '../errors.js';
import { fleetNotifier } from './fleet-notifier.js';
import { sessionsOf } from './unrunnable-tasks.js';

/** What the status report, `/healthz` and `fleet status` say of the fleet. */
export interface FleetReport {
  readonly host: string;
  /** Where the shared state lives: `postgres` (host:port/database, never the URL) or this host's own SQLite. */
  readonly shared: string;
  readonly degraded: { readonly since: string; readonly reason: string } | null;
  readonly spread: boolean;
  readonly hosts: readonly ReportedHost[];
}

/** A host as reported: `silent` when it has not reported for SILENT_AFTER_MS (stopped, or cut off from the database). */
export type ReportedHost = Omit<FleetHost, 'lastSeen' | 'degraded'> & { readonly lastSeen: string; readonly silent: boolean };

function reported(h: FleetHost, now: Date): ReportedHost {
  return { name: h.name, lastSeen: h.lastSeen.toISOString(), activeAccount: h.activeAccount, sessions: h.sessions, runningTasks: h.runningTasks, silent: now.getTime() - h.lastSeen.getTime() > SILENT_AFTER_MS };
}

export interface Fleet {
  readonly shared: SharedStore;
  readonly sync: FleetSync;
  /** The notifier every part of this host uses: fleet-wide events are sent once for the fleet. */
  readonly notifier: Notifier;
  /**
   * `fleet.spread`: runs `choose` with how many other live hosts are on (or moving to) each
   * account, one host at a time across the fleet, and tells the fleet the account chosen (see
   * SharedStore.chooseSpread). Degraded, or the database failing, it chooses from the hosts
   * as last read, without waiting on the database.
   */
  spreadChoice<T>(choose: SpreadChoose<T>): Promise<T>;
  report(): FleetReport;
  /**
   * Claims this host's name before anything else happens at start: throws FLEET_HOST_TAKEN
   * when another daemon reports under this fleet.host. A database out of reach is no refusal
   * (the host starts degraded).
   */
  claimName(): Promise<void>;
  /**
   * A first sync (the fleet's limits before the pool is fed), then one every second and on
   * every change. Throws FLEET_HOST_TAKEN when another daemon took the name meanwhile.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface FleetDeps {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  /** This host's own notifier (its channels). */
  readonly notifier: Notifier;
  /** Late-bound: the monitor is built after the fleet. */
  readonly applyLimit: (event: LimitEvent) => void;
  readonly hostState: () => Promise<{ activeAccount: string | null; sessions: number; runningTasks: number }>;
}

/**
 * This host's part in a fleet (`store.shared`): the shared store, the sync of the ledger, the
 * notifier that speaks once for the fleet. Null without `store.shared`: a single host changes
 * nothing.
 */
export async function createFleet(deps: FleetDeps): Promise<Fleet | null> {
  const shared = deps.config.store.shared;
  if (!shared) return null;
  const { config, logger, now } = deps;
  const host = config.fleet.host;
  const where = describeDatabase(shared.url);
  const log = logger.child({ part: 'fleet' });
  const store = await openSharedStore({
    config: shared,
    host,
    instance: deps.store.instanceId(),
    leaseMs: config.fleet.leaseMs,
    now,
    onConnectionError: (message) => { log.debug({ err: message }, 'a shared database connection broke'); },
  });
  let sync: FleetSync | null = null;
  const notifier = fleetNotifier(deps.notifier, { shared: store, host, degraded: () => sync?.health.degraded ?? true, logger: log });
  const secrets = urlSecrets(shared.url);
  sync = new FleetSync({ store: deps.store, shared: store, host, now, logger: log, notifier: deps.notifier, applyLimit: deps.applyLimit, hostState: deps.hostState, hasSession: sessionsOf(config), where, scrub: (text) => redactSecrets(text, secrets) });
  const fleetSync = sync;
  /** claimName could not reach the database: start does not wait on it a second time. */
  let unreachableAtStart = false;
  return {
    shared: store,
    sync: fleetSync,
    notifier,
    spreadChoice: async <T>(choose: SpreadChoose<T>): Promise<T> => {
      const lastRead = (): Map<string, number> => {
        const load = new Map<string, number>();
        const at = now().getTime();
        for (const h of fleetSync.hosts) {
          if (h.name === host || !h.activeAccount || at - h.lastSeen.getTime() > SILENT_AFTER_MS) continue;
          load.set(h.activeAccount, (load.get(h.activeAccount) ?? 0) + 1);
        }
        return load;
      };
      if (fleetSync.health.degraded) return choose(lastRead()).result;
      let decided: { readonly result: T } | null = null;
      try {
        return await store.chooseSpread(host, (load) => {
          const choice = choose(load);
          decided = { result: choice.result };
          return choice;
        });
      } catch (err) {
        log.warn({ err: redactSecrets(describeError(err), secrets) }, 'the fleet could not be asked where the other hosts are: choosing from the hosts as last read');
        return (decided as { readonly result: T } | null)?.result ?? choose(lastRead()).result;
      }
    },
    report: () => {
      const degraded = fleetSync.health.state;
      return {
        host,
        shared: `postgres ${where}`,
        degraded: degraded ? { since: degraded.since.toISOString(), reason: degraded.reason } : null,
        spread: config.fleet.spread,
        hosts: fleetSync.hosts.map((h) => reported(h, new Date())),
      };
    },
    claimName: async () => {
      try {
        await store.prepare();
        await store.heartbeat({ name: host, degraded: false, ...(await deps.hostState()) });
      } catch (err) {
        if (err instanceof FailoverError && err.code === 'FLEET_HOST_TAKEN') throw err;
        unreachableAtStart = true;
        fleetSync.health.lost(redactSecrets(describeError(err), secrets));
      }
    },
    start: async () => {
      // Out of reach a moment ago: the first pass runs in the background (start kicks one) instead of waiting its timeout again.
      if (!unreachableAtStart) await fleetSync.syncNow();
      // A database down now only makes this host degraded; its name held by another daemon stops the start.
      if (fleetSync.nameTaken) throw fleetSync.nameTaken;
      fleetSync.start();
    },
    stop: async () => {
      await fleetSync.stop();
      await store.close();
    },
  };
}

/** The fleet as a command sees it from the shared database (`status` with store.shared): unreachable is said, not thrown. */
export async function readFleetReport(shared: SharedStore, config: Config, now: Date): Promise<FleetReport> {
  const base = { host: config.fleet.host, shared: `postgres ${config.store.shared ? describeDatabase(config.store.shared.url) : ''}`, spread: config.fleet.spread };
  try {
    await shared.prepare();
    const hosts = await shared.hosts();
    return { ...base, degraded: null, hosts: hosts.map((h) => reported(h, now)) };
  } catch (err) {
    return { ...base, degraded: { since: now.toISOString(), reason: redactSecrets(describeError(err), config.store.shared ? urlSecrets(config.store.shared.url) : []) }, hosts: [] };
  }
}
