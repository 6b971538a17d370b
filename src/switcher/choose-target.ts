import type { Account } from '../config/types.js';
import type { LedgerEntry } from '../store/store.js';

/** An account can take the pool now: not exhausted, or its recorded reset has passed. */
export function isAvailable(entry: LedgerEntry | undefined, now: Date): boolean {
  if (!entry?.exhausted) return true;
  return entry.resetsAt !== null && entry.resetsAt.getTime() <= now.getTime();
}

/**
 * Usage at or over `monitor.proactivePercent` in a window that has not reset yet: the
 * account still answers, but a swap onto it would soon need another.
 */
export function isNearLimit(entry: LedgerEntry | undefined, now: Date, nearLimitPercent: number | null): boolean {
  if (nearLimitPercent === null || entry?.usagePercent == null || entry.usagePercent < nearLimitPercent) return false;
  return entry.usageResetsAt === null || entry.usageResetsAt.getTime() > now.getTime();
}

/**
 * The last reading (the statusline's, or the usage endpoint's for an account not in use) is
 * 100% of a window not yet reset: near its limit for the target choice, threshold or not.
 */
function readsFull(entry: LedgerEntry | undefined, now: Date): boolean {
  return isNearLimit(entry, now, 100);
}

/** When the account is fully usable again (exhausted or near its limit), or null when it is now. */
export function usableAgainAt(entry: LedgerEntry | undefined, now: Date, nearLimitPercent: number | null): Date | null {
  const times: number[] = [];
  if (!isAvailable(entry, now) && entry?.resetsAt) times.push(entry.resetsAt.getTime());
  if (isNearLimit(entry, now, nearLimitPercent) && entry?.usageResetsAt) times.push(entry.usageResetsAt.getTime());
  return times.length > 0 ? new Date(Math.max(...times)) : null;
}

export type TargetChoice =
  | { readonly found: true; readonly account: Account; readonly nearLimit: boolean }
  | { readonly found: false; readonly earliestReset: Date | null };

export interface TargetOptions {
  /** Accounts that cannot be the target (the active one, for a limit). */
  readonly exclude?: readonly string[];
  /** `monitor.proactivePercent`: accounts this close to a limit come after the others. */
  readonly nearLimitPercent?: number | null;
  /** Refuse accounts near their limit instead of ranking them last (a proactive swap). */
  readonly requireHeadroom?: boolean;
  /**
   * `fleet.spread`: how many other hosts of the fleet are on each account. Among accounts with
   * headroom, the one leaving each host the most (100% less its last reading, shared by the hosts
   * on it and this one) is chosen instead of the first in priority order.
   */
  readonly spread?: ReadonlyMap<string, number>;
}

/** What an account leaves each host that would use it: its unused percent over its hosts. */
function headroomPerHost(entry: LedgerEntry | undefined, hosts: number): number {
  return (100 - Math.min(100, entry?.usagePercent ?? 0)) / (hosts + 1);
}

/**
 * The highest-priority account (config order) that is available now and not excluded,
 * preferring one with headroom over one near its limit, so two accounts near their limits
 * do not pass the pool back and forth; among those near their limits, the one whose last
 * reading leaves the most room (priority breaks a tie). With none, the earliest moment any
 * account (the excluded ones included) becomes available, for the retry.
 */
export function chooseTarget(accounts: readonly Account[], ledger: readonly LedgerEntry[], now: Date, options: TargetOptions = {}): TargetChoice {
  const exclude = options.exclude ?? [];
  const percent = options.nearLimitPercent ?? null;
  const byName = new Map(ledger.map((e) => [e.account, e]));
  const candidates = accounts.filter((a) => !exclude.includes(a.name) && isAvailable(byName.get(a.name), now));
  const tightNow = (a: Account) => isNearLimit(byName.get(a.name), now, percent) || readsFull(byName.get(a.name), now);
  const spread = options.spread;
  const roomyOnes = candidates.filter((a) => !tightNow(a));
  // Sort is stable: equal headroom keeps priority order.
  const roomy = spread ? [...roomyOnes].sort((a, b) => headroomPerHost(byName.get(b.name), spread.get(b.name) ?? 0) - headroomPerHost(byName.get(a.name), spread.get(a.name) ?? 0))[0] : roomyOnes[0];
  if (roomy) return { found: true, account: roomy, nearLimit: false };
  // Every candidate here is near its limit: a reading says so, so the lowest reading leaves the most room (sort is stable).
  const tight = [...candidates].sort((a, b) => (byName.get(a.name)?.usagePercent ?? 0) - (byName.get(b.name)?.usagePercent ?? 0))[0];
  if (tight && !options.requireHeadroom) return { found: true, account: tight, nearLimit: true };
  // Over every account, the excluded ones too: the active account resetting first ends the wait.
  let earliest: Date | null = null;
  for (const account of accounts) {
    const entry = byName.get(account.name);
    const reset = usableAgainAt(entry, now, percent) ?? (readsFull(entry, now) ? entry?.usageResetsAt : null) ?? entry?.resetsAt ?? null;
    if (reset && (!earliest || reset < earliest)) earliest = reset;
  }
  return { found: false, earliestReset: earliest };
}
