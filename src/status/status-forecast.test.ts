import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { configFromObject } from '../config/load.js';
import type { Config } from '../config/types.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { buildStatus } from './status-report.js';

const MIN = 60_000;
const start = new Date('2026-11-24T12:00:00Z');
const at = (minutes: number) => new Date(start.getTime() + minutes * MIN);
let dir: string;
let store: Store;
let config: Config;
beforeEach(async () => {
  dir = await makeTempDir('cf-status-forecast');
  store = openStore(dir, { now: () => start });
  const result = configFromObject({ home: dir, accounts: [{ name: 'work', home: `${dir}/.claude-work` }, { name: 'spare', home: `${dir}/.claude-spare` }] }, { baseDir: dir });
  if (!result.ok) throw new Error(result.report);
  config = result.config;
});
afterEach(async () => {
  store.close();
  await removeTempDir(dir);
});

describe('status: the forecast', () => {
  it('is null without an active account, and the active account\'s forecast once there is one', () => {
    expect(buildStatus(config, store, null, at(21)).forecast).toBeNull();
    store.setActiveAccount('work');
    expect(buildStatus(config, store, null, at(21)).forecast).toMatchObject({ account: 'work', state: 'none', reason: 'too-few-readings' });
    for (const [minute, percent] of [[0, 40], [10, 45], [20, 50]] as const) store.addUsageReading({ account: 'work', window: 'five_hour', percent, resetsAt: at(300), source: 'statusline', at: at(minute) });
    // The readings of another account are not the active one's pace.
    store.addUsageReading({ account: 'spare', window: 'five_hour', percent: 90, resetsAt: at(300), source: 'poll', at: at(20) });
    expect(buildStatus(config, store, null, at(21)).forecast).toEqual({ account: 'work', state: 'limit', window: 'five_hour', limitAt: at(120).toISOString(), resetsAt: at(300).toISOString(), percent: 50, percentPerHour: 30, reason: null });
  });
});

describe('status: usage per window', () => {
  it('gives each account the latest reading of each window not yet reset, null where none is current', () => {
    expect(buildStatus(config, store, null, at(0)).accounts.map((a) => a.windows)).toEqual([{ five_hour: null, seven_day: null }, { five_hour: null, seven_day: null }]);
    store.addUsageReading({ account: 'work', window: 'five_hour', percent: 40, resetsAt: at(60), source: 'statusline', at: at(0) });
    store.addUsageReading({ account: 'work', window: 'five_hour', percent: 45, resetsAt: at(60), source: 'statusline', at: at(10) });
    store.addUsageReading({ account: 'work', window: 'seven_day', percent: 70, resetsAt: at(3000), source: 'statusline', at: at(10) });
    // Without a reset time a reading stands for the window's length (five hours here).
    store.addUsageReading({ account: 'spare', window: 'five_hour', percent: 12, resetsAt: null, source: 'poll', at: at(0) });
    const windows = (minute: number) => buildStatus(config, store, null, at(minute)).accounts.map((a) => a.windows);
    expect(windows(11)).toEqual([
      { five_hour: { percent: 45, resetsAt: at(60).toISOString() }, seven_day: { percent: 70, resetsAt: at(3000).toISOString() } },
      { five_hour: { percent: 12, resetsAt: null }, seven_day: null },
    ]);
    // The 5-hour window of work has reset; spare's reading is older than a 5-hour window.
    expect(windows(5 * 60)).toEqual([{ five_hour: null, seven_day: { percent: 70, resetsAt: at(3000).toISOString() } }, { five_hour: null, seven_day: null }]);
  });
});
