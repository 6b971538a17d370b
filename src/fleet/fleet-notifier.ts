import type { Logger } from '../log.js';
import type { Notifier } from '../notify/notifier.js';
import type { SharedStore } from '../store/shared-store.js';

/**
 * The notifier of a host in a fleet: one notification per event for the whole fleet.
 * A limit is announced once by the host that saw it first (fleet-sync.ts), so each host's own
 * swap off that account is not announced again (it is in the log, the swap history and
 * `fleet status`), unless the host is degraded and nobody else can speak for it, or a session
 * of its own did not come back (that is this host's news, not the fleet's). "Every
 * account is exhausted" is sent by the first host to claim its key. Everything else is this
 * host's own news and goes out as before.
 */
export function fleetNotifier(inner: Notifier, deps: { readonly shared: SharedStore; readonly host: string; readonly degraded: () => boolean; readonly logger: Logger }): Notifier {
  return {
    notify(event) {
      if (event.kind === 'swap-done' && event.details?.trigger === 'limit' && !someSessionFailed(event.details) && !deps.degraded()) {
        deps.logger.info({ event: event.kind }, `${event.text.split('\n')[0] ?? ''} (the fleet's limit notification covers it)`);
        return;
      }
      if (event.kind === 'no-account' && event.key !== undefined && !deps.degraded()) {
        const key = event.key;
        void deps.shared
          .claimNotification(key, deps.host)
          .then((mine) => { if (mine) inner.notify(event); })
          .catch(() => { inner.notify(event); });
        return;
      }
      inner.notify(event);
    },
    flush: (timeoutMs) => inner.flush(timeoutMs),
    deliveries: () => inner.deliveries(),
  };
}

/** A swap's outcome names a session that did not come back (`ok: false`). */
function someSessionFailed(details: Readonly<Record<string, unknown>>): boolean {
  const sessions: unknown = details.sessions;
  return Array.isArray(sessions) && sessions.some((s: unknown) => typeof s === 'object' && s !== null && 'ok' in s && s.ok === false);
}
