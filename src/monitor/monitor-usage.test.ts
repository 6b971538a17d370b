import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createTmuxClient } from '../tmux/client.js';
import { silentLogger } from '../log.js';
import { configFromObject } from '../config/load.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { Monitor } from './monitor.js';
import { SessionStates } from '../sessions/session-states.js';

const MIN = 60_000;
let dir: string;
let store: Store;
let now: Date;
let near: [string, number, Date | null][];
const start = new Date('2026-11-24T20:00:00Z');
const fiveHourReset = new Date(start.getTime() + 180 * MIN);
const weekReset = new Date(start.getTime() + 3 * 24 * 60 * MIN);

async function monitor(monitorConfig: Record<string, unknown>): Promise<Monitor> {
  const result = configFromObject({ home: dir, accounts: [{ name: 'work', home: `${dir}/.claude-work` }, { name: 'spare', home: `${dir}/.claude-spare` }], monitor: monitorConfig }, { baseDir: dir });
  if (!result.ok) throw new Error(result.report);
  const config = result.config;
  const states = new SessionStates(store, () => now);
  states.launched('s1', { paneId: '%1', account: 'work', cwd: dir, sessionId: 'id-1', keepLastError: false });
  return Promise.resolve(
    new Monitor({
      config, store, sessions: states,
      tmux: createTmuxClient({ socket: 'cf-unused' }),
      logger: silentLogger(),
      now: () => now,
      activeAccount: () => config.accounts[0] ?? null,
      onLimit: () => undefined,
      onNearLimit: (account, percent, resetsAt) => near.push([account, percent, resetsAt]),
    }),
  );
}

const statusline = (fiveHour: number, sevenDay: number) => ({
  rate_limits: {
    five_hour: { used_percentage: fiveHour, resets_at: fiveHourReset.getTime() / 1000 },
    seven_day: { used_percentage: sevenDay, resets_at: weekReset.getTime() / 1000 },
  },
});

beforeEach(async () => {
  dir = await makeTempDir('cf-monitor-usage');
  now = start;
  store = openStore(dir, { now: () => now });
  near = [];
});
afterEach(async () => {
  store.close();
  await removeTempDir(dir);
});

describe('Monitor: usage readings', () => {
  it('keeps a reading of every window the statusline reports, and the ledger keeps the binding one', async () => {
    const m = await monitor({});
    m.handleStatusline('%1', statusline(30, 55));
    now = new Date(start.getTime() + 5 * MIN);
    m.handleStatusline('%1', statusline(33, 56));
    expect(store.usageReadings('work', 'five_hour').map((r) => [r.percent, r.resetsAt, r.source])).toEqual([[30, fiveHourReset, 'statusline'], [33, fiveHourReset, 'statusline']]);
    expect(store.usageReadings('work', 'seven_day').map((r) => r.percent)).toEqual([55, 56]);
    expect(store.getLedgerEntry('work')).toMatchObject({ usagePercent: 56, usageResetsAt: weekReset });
  });

  it('counts a limit record as a reading of 100% of its window', async () => {
    const m = await monitor({});
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: fiveHourReset, precision: 'epoch', source: 'transcript', detectedAt: now, session: 's1', text: 'banner' });
    // The same limit again (another session) adds nothing.
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: fiveHourReset, precision: 'epoch', source: 'hook', detectedAt: now, session: 's1', text: 'banner' });
    // A limit of no known window is no reading.
    m.handleLimit({ account: 'spare', kind: 'unknown', resetsAt: fiveHourReset, precision: 'epoch', source: 'transcript', detectedAt: now, session: null, text: 'banner' });
    expect(store.usageReadings('work', 'five_hour').map((r) => [r.percent, r.resetsAt, r.source])).toEqual([[100, fiveHourReset, 'limit']]);
    expect(store.usageReadings('spare', 'five_hour')).toEqual([]);
  });

  it('with monitor.proactiveForecastMs, a forecast of the limit that close asks for the proactive switch, once per window', async () => {
    const m = await monitor({ proactiveForecastMs: 30 * MIN });
    // 1% a minute from 40%: 100% is an hour away, then closer with each answer.
    for (let minute = 0; minute <= 30; minute += 5) {
      now = new Date(start.getTime() + minute * MIN);
      m.handleStatusline('%1', statusline(40 + minute, 10));
      if (minute < 30) expect(near).toEqual([]);
    }
    // At 70%, 30 minutes before the forecast limit.
    expect(near).toEqual([['work', 70, fiveHourReset]]);
    now = new Date(start.getTime() + 35 * MIN);
    m.handleStatusline('%1', statusline(75, 10));
    expect(near).toHaveLength(1);
  });

  it('without monitor.proactiveForecastMs (the default) the forecast starts nothing', async () => {
    const m = await monitor({});
    for (let minute = 0; minute <= 50; minute += 5) {
      now = new Date(start.getTime() + minute * MIN);
      m.handleStatusline('%1', statusline(40 + minute, 10));
    }
    expect(near).toEqual([]);
  });
});
