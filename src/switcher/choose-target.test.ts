import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../store/store.js';
import { chooseTarget, isAvailable } from './choose-target.js';

const accounts = [
  { name: 'a', home: '/h/a' },
  { name: 'b', home: '/h/b' },
  { name: 'c', home: '/h/c' },
];
const now = new Date('2026-11-24T12:00:00Z');
function exhausted(account: string, resetsAt: string | null): LedgerEntry {
  return { account, exhausted: true, kind: 'five_hour', resetsAt: resetsAt ? new Date(resetsAt) : null, resetGuessed: false, usagePercent: null, usageResetsAt: null, source: 'hook:epoch', updatedAt: now };
}

describe('chooseTarget', () => {
  it('takes the highest-priority account that is not exhausted, skipping the excluded one', () => {
    expect(chooseTarget(accounts, [], now, ['a'])).toEqual({ found: true, account: accounts[1] });
    expect(chooseTarget(accounts, [exhausted('b', '2026-11-24T13:00:00Z')], now, ['a'])).toEqual({ found: true, account: accounts[2] });
  });

  it('counts an account whose reset has passed as available again', () => {
    const ledger = [exhausted('a', '2026-11-24T11:59:00Z')];
    expect(isAvailable(ledger[0], now)).toBe(true);
    expect(chooseTarget(accounts, ledger, now)).toEqual({ found: true, account: accounts[0] });
  });

  it('with every account exhausted, names the earliest reset for the retry', () => {
    const ledger = [exhausted('a', '2026-11-24T15:00:00Z'), exhausted('b', '2026-11-24T13:30:00Z'), exhausted('c', null)];
    expect(chooseTarget(accounts, ledger, now)).toEqual({ found: false, earliestReset: new Date('2026-11-24T13:30:00Z') });
  });

  it('never picks an exhausted account with no known reset (no ping-pong)', () => {
    const ledger = [exhausted('b', null), exhausted('c', null)];
    expect(chooseTarget(accounts, ledger, now, ['a'])).toEqual({ found: false, earliestReset: null });
  });
});
