import type { Account } from '../config/types.js';
import type { LedgerEntry } from '../store/store.js';

/** An account can take the pool now: not exhausted, or its recorded reset has passed. */
export function isAvailable(entry: LedgerEntry | undefined, now: Date): boolean {
  if (!entry?.exhausted) return true;
  return entry.resetsAt !== null && entry.resetsAt.getTime() <= now.getTime();
}

export type TargetChoice =
  | { readonly found: true; readonly account: Account }
  | { readonly found: false; readonly earliestReset: Date | null };

/**
 * The highest-priority account (config order) that is available now and not excluded.
 * With none, the earliest moment one becomes available, for the retry.
 */
export function chooseTarget(accounts: readonly Account[], ledger: readonly LedgerEntry[], now: Date, exclude: readonly string[] = []): TargetChoice {
  const byName = new Map(ledger.map((e) => [e.account, e]));
  for (const account of accounts) {
    if (exclude.includes(account.name)) continue;
    if (isAvailable(byName.get(account.name), now)) return { found: true, account };
  }
  let earliest: Date | null = null;
  for (const account of accounts) {
    if (exclude.includes(account.name)) continue;
    const reset = byName.get(account.name)?.resetsAt ?? null;
    if (reset && (!earliest || reset < earliest)) earliest = reset;
  }
  return { found: false, earliestReset: earliest };
}
