import type { Logger } from '../log.js';
import type { Notifier } from '../notify/notifier.js';

export interface FleetHealthDeps {
  readonly host: string;
  readonly where: string;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * Whether this host reaches the shared database. Losing it is said once (a warning, one
 * notification) however many passes fail; regaining it is said once too. Meanwhile the host
 * fails over on its own ledger: `/healthz` and the status page show it degraded.
 */
export class FleetHealth {
  private readonly deps: FleetHealthDeps;
  private lostAt: Date | null = null;
  private reason: string | null = null;
  private everReached = false;

  constructor(deps: FleetHealthDeps) {
    this.deps = deps;
  }

  get degraded(): boolean {
    return this.lostAt !== null;
  }

  /** Why and since when, for /healthz and the status (null while the database answers). */
  get state(): { readonly since: Date; readonly reason: string } | null {
    return this.lostAt && this.reason !== null ? { since: this.lostAt, reason: this.reason } : null;
  }

  lost(reason: string): void {
    this.reason = reason;
    if (this.lostAt) return;
    this.lostAt = this.deps.now();
    this.deps.logger.warn({ reason }, 'the shared database is unreachable: this host fails over on its own ledger until it is back');
    this.deps.notifier.notify({
      kind: 'fleet-degraded',
      key: `fleet-degraded:${this.deps.host}:${this.lostAt.toISOString()}`,
      text: `${this.deps.host} lost the shared database (${this.deps.where}): ${reason}. It goes on failing over on its own ledger and writes back what it learns when the database returns.`,
    });
  }

  reached(): void {
    const lostAt = this.lostAt;
    this.lostAt = null;
    this.reason = null;
    const first = !this.everReached;
    this.everReached = true;
    if (!lostAt) return;
    const seconds = Math.round((this.deps.now().getTime() - lostAt.getTime()) / 1000);
    this.deps.logger.info({ seconds }, first ? 'the shared database is reachable: joined the fleet' : 'the shared database is back: merged this host\'s ledger into the fleet\'s');
    this.deps.notifier.notify({
      kind: 'fleet-restored',
      key: `fleet-restored:${this.deps.host}:${lostAt.toISOString()}`,
      text: `${this.deps.host} reaches the shared database again after ${String(seconds)} s; the limits it learnt meanwhile are the fleet's now.`,
    });
  }
}
