import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { accountForecast, forecastReport } from './account-forecast.js';

const MIN = 60_000;
const start = new Date('2026-11-24T12:00:00Z');
const at = (minutes: number) => new Date(start.getTime() + minutes * MIN);

let dir: string;
let store: Store;
let clock = start;
beforeEach(async () => {
  dir = await makeTempDir('cf-usage-readings');
  store = openStore(dir, { now: () => clock });
});
afterEach(async () => {
  store.close();
  await removeTempDir(dir);
});

describe('usage readings in the store', () => {
  it('keeps readings per account and window, oldest first, across reopening', () => {
    store.addUsageReading({ account: 'work', window: 'five_hour', percent: 10, resetsAt: at(300), source: 'statusline', at: at(1) });
    store.addUsageReading({ account: 'work', window: 'seven_day', percent: 3, resetsAt: null, source: 'statusline', at: at(1) });
    store.addUsageReading({ account: 'spare', window: 'five_hour', percent: 50, resetsAt: null, source: 'poll', at: at(2) });
    clock = at(5);
    store.addUsageReading({ account: 'work', window: 'five_hour', percent: 12, resetsAt: at(300), source: 'statusline' });
    store.close();
    store = openStore(dir, { now: () => clock });
    expect(store.usageReadings('work', 'five_hour')).toEqual([
      { account: 'work', window: 'five_hour', percent: 10, resetsAt: at(300), at: at(1), source: 'statusline' },
      { account: 'work', window: 'five_hour', percent: 12, resetsAt: at(300), at: at(5), source: 'statusline' },
    ]);
    expect(store.usageReadings('work', 'five_hour', at(2)).map((r) => r.percent)).toEqual([12]);
    expect(store.usageReadings('work', 'seven_day').map((r) => r.percent)).toEqual([3]);
    expect(store.usageReadings('spare', 'five_hour').map((r) => r.source)).toEqual(['poll']);
  });

  it('prunes as it goes: at most 300 per window, nothing older than eight days', () => {
    store.addUsageReading({ account: 'work', window: 'seven_day', percent: 1, resetsAt: null, source: 'statusline', at: at(-9 * 24 * 60) });
    for (let i = 0; i < 310; i++) store.addUsageReading({ account: 'work', window: 'five_hour', percent: i / 10, resetsAt: null, source: 'statusline', at: at(i) });
    const kept = store.usageReadings('work', 'five_hour');
    expect(kept).toHaveLength(300);
    expect(kept[0]?.at).toEqual(at(10));
    store.addUsageReading({ account: 'work', window: 'seven_day', percent: 2, resetsAt: null, source: 'statusline', at: at(0) });
    expect(store.usageReadings('work', 'seven_day').map((r) => r.percent)).toEqual([2]);
  });

  it('forecasts an account from what the store kept, as the status report gives it', () => {
    for (const [minute, percent] of [[0, 40], [10, 45], [20, 50]] as const) store.addUsageReading({ account: 'work', window: 'five_hour', percent, resetsAt: at(300), source: 'statusline', at: at(minute) });
    clock = at(21);
    expect(forecastReport('work', accountForecast(store, 'work', clock))).toEqual({
      account: 'work', state: 'limit', window: 'five_hour', limitAt: at(120).toISOString(), resetsAt: at(300).toISOString(), percent: 50, percentPerHour: 30, reason: null,
    });
    expect(forecastReport('spare', accountForecast(store, 'spare', clock))).toEqual({
      account: 'spare', state: 'none', window: 'five_hour', limitAt: null, resetsAt: null, percent: null, percentPerHour: null, reason: 'too-few-readings',
    });
  });
});
