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
