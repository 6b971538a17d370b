import type { Store } from './store.js';
import type { FleetHost, SharedStore } from './shared-store.js';

/**
 * The shared store of a fleet of one: the host's own SQLite, where the ledger, the queue and
 * the swap history already are. Publishing changes nothing (the local ledger is the ledger),
 * every notification is this host's to send, and the only host is this one.
 */
export function createEmbeddedSharedStore(store: Store, now: () => Date = () => new Date()): SharedStore {
  let self: FleetHost | null = null;
  return {
    kind: 'embedded',
    tasks: store.tasks,
    prepare: () => Promise.resolve(),
    ledger: () =>
      Promise.resolve(
        store.getLedger().map((e) => ({
          account: e.account,
          exhausted: e.exhausted,
          kind: e.kind,
          resetsAt: e.resetsAt,
          resetGuessed: e.resetGuessed,
          source: e.source,
          host: self?.name ?? null,
          seq: 0,
          usagePercent: e.usagePercent,
          usageResetsAt: e.usageResetsAt,
          usageAt: e.usageAt ?? e.updatedAt,
        })),
      ),
    publishLimit: () => Promise.resolve({ fresh: true, seq: 0 }),
    publishUsage: () => Promise.resolve(),
    addSwaps: () => Promise.resolve(),
    lastSwapId: () => Promise.resolve(store.listSwaps(1)[0]?.id ?? 0),
    listSwaps: (limit) => Promise.resolve(store.listSwaps(limit).map((s) => ({ ...s, host: self?.name ?? '' }))),
    claimNotification: () => Promise.resolve(true),
    heartbeat: (host) => {
      self = { ...host, lastSeen: now() };
      return Promise.resolve();
    },
    hosts: () => Promise.resolve(self ? [self] : []),
    chooseSpread: (_host, choose) => Promise.resolve(choose(new Map()).result),
    renewLeases: () => Promise.resolve(),
    checkRunnable: () => Promise.resolve({ waiting: [], live: [] }),
    onLedgerChange: () => Promise.resolve(() => Promise.resolve()),
    close: () => Promise.resolve(),
  };
}
