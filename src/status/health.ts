import type { Config } from '../config/types.js';
import type { Store } from '../store/store.js';
import type { TmuxClient } from '../tmux/client.js';
import { PARTIAL_SWAP_FLAG } from '../switcher/types.js';
import { chooseTarget } from '../switcher/choose-target.js';
import { requiredPoolSpecs } from '../pool/pool-spec.js';
import { describeError } from '../errors.js';
import { readLink } from '../accounts/link.js';

export interface Health {
  readonly healthy: boolean;
  readonly reasons: string[];
  readonly activeAccount: string | null;
}

/** What `/healthz` answers: every reason a person should look, or healthy. */
export async function checkHealth(deps: { config: Config; store: Store; tmux: TmuxClient; now: Date; fleetDegraded?: string | null }): Promise<Health> {
  const { config, store, tmux, now } = deps;
  const reasons: string[] = [];
  // The host still fails over on its own ledger; the fleet does not hear of its limits meanwhile.
  if (deps.fleetDegraded) reasons.push(`fleet degraded: the shared database is unreachable (${deps.fleetDegraded}); failing over on this host's own ledger`);
  const flag = store.getFlag(PARTIAL_SWAP_FLAG);
  if (flag.set) reasons.push(`partial swap: ${flag.reason ?? 'unknown'}`);
  if (!store.writable()) reasons.push(`the store in ${config.stateDir} is not writable`);
  // Something put a real directory (or file) where the link lives: sessions that follow it
  // leave the accounts, and no swap can flip it. Said at once, not at the next swap.
  const link = await readLink(config).catch((err: unknown) => ({ kind: 'unreadable' as const, why: describeError(err) }));
  if (link.kind === 'not-a-link') reasons.push(`${config.link} is a real directory or file, not a link to an account home: no swap can go through; run claude-failover init to migrate it`);
  if (link.kind === 'unreadable') reasons.push(`${config.link} cannot be read: ${link.why}`);
  try {
    // No server answers as an empty list: judge by the sessions the pool must have.
    const running = new Set((await tmux.listSessions()).map((s) => s.name));
    const required = requiredPoolSpecs(config, running);
    if (required.length > 0 && !required.some((spec) => running.has(spec.name))) {
      reasons.push(`no pool session is running in tmux${config.tmux.socket ? ` (-L ${config.tmux.socket})` : ''}: the server is down or every session died`);
    }
  } catch (err) {
    reasons.push(`tmux is unreachable: ${describeError(err)}`);
  }
  if (!chooseTarget(config.accounts, store.getLedger(), now).found) reasons.push('every account is exhausted');
  return { healthy: reasons.length === 0, reasons, activeAccount: store.getActiveAccount() };
}
