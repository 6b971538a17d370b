import { describe, expect, it } from 'vitest';
import type { UsageReading, UsageWindow } from '../store/store.js';
import { currentWindowReadings, forecastAccount, forecastWindow } from './forecast.js';

const MIN = 60_000;
const start = new Date('2026-11-24T12:00:00Z');
const at = (minutes: number) => new Date(start.getTime() + minutes * MIN);
const reset = at(180);

function reading(minutes: number, percent: number, resetsAt: Date | null = reset, window: UsageWindow = 'five_hour'): UsageReading {
  return { account: 'work', window, percent, resetsAt, at: at(minutes), source: 'statusline' };
}

/** A steady burn as the statusline reports it: one reading per answer, 1% every 2 minutes. */
const steady = [reading(0, 40), reading(4, 42), reading(8, 44), reading(12, 46), reading(16, 48), reading(20, 50)];

describe('forecastWindow', () => {
  it('a steady burn hits 100% when the pace says: 50% left at 30%/h is 100 minutes after the last reading', () => {
    const f = forecastWindow('five_hour', steady, at(21));
    expect(f).toEqual({ kind: 'limit', window: 'five_hour', at: at(120), percent: 50, percentPerHour: 30, resetsAt: reset });
  });

  it('gives none without readings, with one, or when usage is flat', () => {
    expect(forecastWindow('five_hour', [], at(0))).toEqual({ kind: 'none', window: 'five_hour', reason: 'too-few-readings' });
    expect(forecastWindow('five_hour', [reading(0, 40)], at(1))).toEqual({ kind: 'none', window: 'five_hour', reason: 'too-few-readings' });
    expect(forecastWindow('five_hour', [reading(0, 40), reading(10, 40), reading(20, 40)], at(21))).toEqual({ kind: 'none', window: 'five_hour', reason: 'not-rising' });
    // Two readings at the same moment (two sessions' statuslines) give no pace.
    expect(forecastWindow('five_hour', [reading(5, 40), reading(5, 41)], at(6))).toEqual({ kind: 'none', window: 'five_hour', reason: 'too-few-readings' });
  });

  it('measures the pace over the last half hour only', () => {
    // A fast start an hour ago, then the steady burn: the old readings do not count.
    const old = [reading(-60, 0), reading(-50, 30)];
    const f = forecastWindow('five_hour', [...old, ...steady], at(21));
    // One window (usage only rose), but only the last 30 minutes set the pace.
    expect(f).toMatchObject({ kind: 'limit', at: at(120), percentPerHour: 30 });
  });

  it('says the window resets first when the pace would not reach 100% before the reset', () => {
    const early = at(60);
    const slow = [reading(0, 40, early), reading(10, 42, early), reading(20, 44, early)];
    expect(forecastWindow('five_hour', slow, at(21))).toEqual({ kind: 'reset-first', window: 'five_hour', resetsAt: early, percent: 44, percentPerHour: 12 });
  });

  it('starts over after a reset: readings of the previous window do not count', () => {
    const next = at(300);
    const readings = [reading(0, 80), reading(5, 90), reading(10, 96), reading(15, 2, next), reading(20, 4, next)];
    expect(currentWindowReadings(readings, at(21)).map((r) => r.percent)).toEqual([2, 4]);
    expect(forecastWindow('five_hour', readings, at(21))).toMatchObject({ kind: 'limit', at: at(20 + 96 * 2.5), percent: 4, percentPerHour: 24 });
    // One reading into the new window: no pace yet, whatever came before.
    expect(forecastWindow('five_hour', readings.slice(0, 4), at(16))).toEqual({ kind: 'none', window: 'five_hour', reason: 'too-few-readings' });
    // A fall in usage is a reset even when no reset time is known.
    const unknownReset = [reading(0, 60, null), reading(5, 70, null), reading(10, 3, null)];
    expect(currentWindowReadings(unknownReset, at(11)).map((r) => r.percent)).toEqual([3]);
  });

  it('knows nothing of a window whose reset has passed since its last reading', () => {
    const passed = at(15);
    expect(currentWindowReadings([reading(0, 40, passed), reading(10, 50, passed)], at(20))).toEqual([]);
    expect(forecastWindow('five_hour', [reading(0, 40, passed), reading(10, 50, passed)], at(20))).toMatchObject({ kind: 'none', reason: 'too-few-readings' });
  });

  it('a limit record (100%) forecasts the limit now', () => {
    const f = forecastWindow('five_hour', [...steady, { ...reading(22, 100), source: 'limit' }], at(23));
    expect(f).toMatchObject({ kind: 'limit', at: at(22) });
  });
});

describe('forecastAccount', () => {
  it('takes the window that hits its limit first', () => {
    const weekReset = at(3 * 24 * 60);
    const weekly = [reading(0, 96, weekReset, 'seven_day'), reading(10, 97, weekReset, 'seven_day'), reading(20, 98, weekReset, 'seven_day')];
    // Weekly: 2% left at 6%/h → 20 minutes; five-hour: 100 minutes.
    expect(forecastAccount([...steady, ...weekly], at(21))).toMatchObject({ kind: 'limit', window: 'seven_day', at: at(40) });
    expect(forecastAccount(steady, at(21))).toMatchObject({ kind: 'limit', window: 'five_hour', at: at(120) });
    expect(forecastAccount([], at(21))).toEqual({ kind: 'none', window: 'five_hour', reason: 'too-few-readings' });
  });
});
