import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../store/store.js';
import { chooseTarget, isAvailable, isNearLimit, usableAgainAt } from './choose-target.js';

const accounts = [
  { name: 'a', home: '/h/a' },
  { name: 'b', home: '/h/b' },
  { name: 'c', home: '/h/c' },
];
const now = new Date('2026-11-24T12:00:00Z');
function exhausted(account: string, resetsAt: string | null): LedgerEntry {
  return { account, exhausted: true, kind: 'five_hour', resetsAt: resetsAt ? new Date(resetsAt) : null, resetGuessed: false, usagePercent: null, usageResetsAt: null, usageAt: null, source: 'hook:epoch', updatedAt: now };
}

describe('chooseTarget', () => {
  it('takes the highest-priority account that is not exhausted, skipping the excluded one', () => {
    expect(chooseTarget(accounts, [], now, { exclude: ['a'] })).toEqual({ found: true, account: accounts[1], nearLimit: false });
    expect(chooseTarget(accounts, [exhausted('b', '2026-11-24T13:00:00Z')], now, { exclude: ['a'] })).toEqual({ found: true, account: accounts[2], nearLimit: false });
  });

  it('counts an account whose reset has passed as available again', () => {
    const ledger = [exhausted('a', '2026-11-24T11:59:00Z')];
    expect(isAvailable(ledger[0], now)).toBe(true);
    expect(chooseTarget(accounts, ledger, now)).toEqual({ found: true, account: accounts[0], nearLimit: false });
  });

  it('with every account exhausted, names the earliest reset for the retry', () => {
    const ledger = [exhausted('a', '2026-11-24T15:00:00Z'), exhausted('b', '2026-11-24T13:30:00Z'), exhausted('c', null)];
    expect(chooseTarget(accounts, ledger, now)).toEqual({ found: false, earliestReset: new Date('2026-11-24T13:30:00Z') });
  });

  it('counts the active account in the earliest reset: it may come back before any other', () => {
    const ledger = [exhausted('a', '2026-11-24T13:00:00Z'), exhausted('b', '2026-11-24T17:00:00Z'), exhausted('c', '2026-11-24T18:00:00Z')];
    expect(chooseTarget(accounts, ledger, now, { exclude: ['a'] })).toEqual({ found: false, earliestReset: new Date('2026-11-24T13:00:00Z') });
  });

  it('never picks an exhausted account with no known reset (no ping-pong)', () => {
    const ledger = [exhausted('b', null), exhausted('c', null)];
    expect(chooseTarget(accounts, ledger, now, { exclude: ['a'] })).toEqual({ found: false, earliestReset: null });
  });

  function used(account: string, percent: number, usageResetsAt: string | null): LedgerEntry {
    return { account, exhausted: false, kind: null, resetsAt: null, resetGuessed: false, usagePercent: percent, usageResetsAt: usageResetsAt ? new Date(usageResetsAt) : null, usageAt: now, source: null, updatedAt: now };
  }

  it('ranks an account near its limit after one with headroom, and takes it only when nothing better is left', () => {
    const ledger = [used('b', 99, '2026-11-24T14:00:00Z')];
    expect(chooseTarget(accounts, ledger, now, { exclude: ['a'], nearLimitPercent: 98 })).toEqual({ found: true, account: accounts[2], nearLimit: false });
    const all = [...ledger, exhausted('c', '2026-11-24T13:00:00Z')];
    expect(chooseTarget(accounts, all, now, { exclude: ['a'], nearLimitPercent: 98 })).toEqual({ found: true, account: accounts[1], nearLimit: true });
    // A proactive swap wants headroom: onto an account as tight as the one it leaves, it waits.
    expect(chooseTarget(accounts, all, now, { exclude: ['a'], nearLimitPercent: 98, requireHeadroom: true })).toEqual({ found: false, earliestReset: new Date('2026-11-24T13:00:00Z') });
    // Without a threshold, usage figures do not rank anything.
    expect(chooseTarget(accounts, ledger, now, { exclude: ['a'] })).toEqual({ found: true, account: accounts[1], nearLimit: false });
  });

  it('among accounts near their limits, takes the one whose reading leaves the most room; priority breaks a tie', () => {
    const ledger = [used('a', 99.5, '2026-11-24T14:00:00Z'), used('b', 99.8, '2026-11-24T14:00:00Z'), used('c', 98.5, '2026-11-24T15:00:00Z')];
    expect(chooseTarget(accounts, ledger, now, { nearLimitPercent: 98 })).toEqual({ found: true, account: accounts[2], nearLimit: true });
    const tie = [used('a', 99.5, '2026-11-24T14:00:00Z'), used('b', 99, '2026-11-24T14:00:00Z'), used('c', 99, '2026-11-24T15:00:00Z')];
    expect(chooseTarget(accounts, tie, now, { exclude: ['a'], nearLimitPercent: 98 })).toEqual({ found: true, account: accounts[1], nearLimit: true });
    // An account with headroom still comes first, in priority order, whatever the others read.
    expect(chooseTarget(accounts, [used('a', 99, null), used('b', 60, null), used('c', 5, null)], now, { exclude: ['a'], nearLimitPercent: 98 })).toEqual({ found: true, account: accounts[1], nearLimit: false });
  });

  it('without a threshold, a reading of 100% in a window not yet reset (an account not in use, read from the usage endpoint) is chosen last', () => {
    const full = [used('b', 100, '2026-11-24T14:00:00Z')];
    expect(chooseTarget(accounts, full, now, { exclude: ['a'] })).toEqual({ found: true, account: accounts[2], nearLimit: false });
    expect(chooseTarget(accounts, [...full, used('c', 100, '2026-11-24T13:00:00Z')], now, { exclude: ['a'] })).toEqual({ found: true, account: accounts[1], nearLimit: true });
    expect(chooseTarget(accounts, [...full, used('c', 100, '2026-11-24T13:00:00Z')], now, { exclude: ['a'], requireHeadroom: true })).toEqual({ found: false, earliestReset: new Date('2026-11-24T13:00:00Z') });
    // Its window reset since: the reading says nothing any more.
    expect(chooseTarget(accounts, [used('b', 100, '2026-11-24T11:00:00Z')], now, { exclude: ['a'] })).toEqual({ found: true, account: accounts[1], nearLimit: false });
  });

  it('forgets a near-limit reading once its window has reset', () => {
    const stale = used('a', 99, '2026-11-24T11:00:00Z');
    expect(isNearLimit(stale, now, 98)).toBe(false);
    expect(isNearLimit(used('a', 97, null), now, 98)).toBe(false);
    expect(isNearLimit(used('a', 98, null), now, 98)).toBe(true);
  });

  it('says when an account is usable again: the later of its limit reset and its near-limit window', () => {
    expect(usableAgainAt(undefined, now, 98)).toBeNull();
    expect(usableAgainAt(used('a', 99, '2026-11-24T14:00:00Z'), now, 98)).toEqual(new Date('2026-11-24T14:00:00Z'));
    const both: LedgerEntry = { ...exhausted('a', '2026-11-24T13:00:00Z'), usagePercent: 100, usageResetsAt: new Date('2026-11-24T16:00:00Z') };
    expect(usableAgainAt(both, now, 98)).toEqual(new Date('2026-11-24T16:00:00Z'));
    expect(usableAgainAt(both, now, null)).toEqual(new Date('2026-11-24T13:00:00Z'));
  });
});

describe('chooseTarget with fleet.spread', () => {
  const reading = (account: string, usagePercent: number): LedgerEntry => ({ account, exhausted: false, kind: null, resetsAt: null, resetGuessed: false, usagePercent, usageResetsAt: null, usageAt: now, source: null, updatedAt: now });

  it('prefers the account leaving each host the most headroom over the first in priority order', () => {
    // b: 60% left for 3 hosts (2 others + this one) = 20 each; c: 50% left for this host alone.
    const ledger = [reading('b', 40), reading('c', 50)];
    const spread = new Map([['b', 2]]);
    expect(chooseTarget(accounts, ledger, now, { exclude: ['a'], spread })).toMatchObject({ found: true, account: accounts[2] });
    // Without spreading, priority order as before.
    expect(chooseTarget(accounts, ledger, now, { exclude: ['a'] })).toMatchObject({ found: true, account: accounts[1] });
    // Equal headroom: priority order.
    expect(chooseTarget(accounts, [], now, { exclude: ['a'], spread: new Map() })).toMatchObject({ found: true, account: accounts[1] });
  });
});
