import { describe, expect, it } from 'vitest';
import type { SwitchOutcome } from '../switcher/types.js';
import { describeOutcome } from '../switcher/describe-outcome.js';
import { readSwitchOutcome } from './switch-outcome.js';

/** What the control socket does to an outcome: JSON there and back. */
const overTheWire = (outcome: SwitchOutcome): unknown => JSON.parse(JSON.stringify(outcome));

describe('the switch outcome as the CLI reads it from the daemon', () => {
  const outcomes: SwitchOutcome[] = [
    { result: 'done', from: 'A', to: 'B', sessions: [{ name: 'auto-1', sessionId: 'c0ffee00-0000-4000-8000-000000000001', resumed: true, prompted: false, continuation: 'not-needed', ok: true, error: null }] },
    { result: 'cancelled', from: 'A', to: 'B', reason: 'B: projects is not a link' },
    { result: 'partial', from: null, to: 'B', reason: 'flip back failed' },
    { result: 'no-target', retryAt: new Date('2026-11-24T15:00:00.000Z') },
    { result: 'no-target', retryAt: null },
    { result: 'skipped', reason: 'already on B' },
    { result: 'refused', reason: 'a partial swap is unresolved' },
    { result: 'deferred', until: new Date('2026-11-24T15:02:00.000Z'), reason: 'waiting for a quiet moment' },
  ];

  it('reads every outcome back with real Dates where the type says Date', () => {
    for (const outcome of outcomes) {
      const read = readSwitchOutcome(overTheWire(outcome));
      expect(read).toEqual(outcome);
      if (read.result === 'deferred') expect(read.until).toBeInstanceOf(Date);
      if (read.result === 'no-target' && read.retryAt !== null) expect(read.retryAt).toBeInstanceOf(Date);
      expect(describeOutcome(read)).toBe(describeOutcome(outcome));
    }
  });

  it('refuses an answer that is not an outcome, naming the field', () => {
    expect(() => readSwitchOutcome({ result: 'done', from: 'A', to: 'B' })).toThrow(/the daemon's answer is not a switch outcome: sessions/);
    expect(() => readSwitchOutcome({ result: 'deferred', until: 'next tuesday', reason: 'x' })).toThrow(/until/);
    expect(() => readSwitchOutcome({ result: 'exploded' })).toThrow(/not a switch outcome/);
    expect(() => readSwitchOutcome(null)).toThrow(/not a switch outcome/);
  });
});
