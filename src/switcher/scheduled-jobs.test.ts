import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { ScheduledJobs } from './scheduled-jobs.js';
import { RETURN_JOB, type SwitchRequest } from './types.js';

describe('ScheduledJobs: the return waits for a quiet moment (real SQLite)', () => {
  let dir: string;
  let store: Store;
  let now: Date;
  let busy: boolean;
  let requests: SwitchRequest[];
  let jobs: ScheduledJobs;
  const GRACE_MS = 10 * 60_000;
  const due = new Date('2026-12-01T12:00:00Z');

  beforeEach(async () => {
    dir = await makeTempDir('cf-jobs');
    store = openStore(`${dir}/state`);
    now = due;
    busy = false;
    requests = [];
    jobs = new ScheduledJobs({
      store,
      logger: silentLogger(),
      now: () => now,
      request: (req) => {
        requests.push(req);
        return Promise.resolve(null);
      },
      busy: () => busy,
      returnGraceMs: GRACE_MS,
    });
    store.scheduleJob({ key: RETURN_JOB, kind: 'return', runAt: due });
  });

  afterEach(async () => {
    store.close();
    await removeTempDir(dir);
  });

  const later = (ms: number) => new Date(due.getTime() + ms);

  it('returns at once when no session is mid-answer', () => {
    jobs.runDue();
    expect(requests).toEqual([expect.objectContaining({ trigger: 'return' })]);
    expect(jobs.returnWaiting()).toBe(false);
  });

  it('holds a due return while a session is mid-answer, starting no new work meanwhile, and returns once the pool is quiet', () => {
    busy = true;
    jobs.runDue();
    now = later(60_000);
    jobs.runDue();
    expect(requests).toEqual([]);
    expect(jobs.returnWaiting()).toBe(true);

    busy = false;
    now = later(90_000);
    jobs.runDue();
    expect(requests).toEqual([expect.objectContaining({ trigger: 'return' })]);
    expect(jobs.returnWaiting()).toBe(false);
  });

  it('returns anyway once the grace has run out with sessions still working', () => {
    busy = true;
    jobs.runDue();
    now = later(GRACE_MS - 1);
    jobs.runDue();
    expect(requests).toEqual([]);
    now = later(GRACE_MS);
    jobs.runDue();
    expect(requests).toEqual([expect.objectContaining({ trigger: 'return' })]);
  });

  it('stops holding work back when the return is moved to later (a new limit rescheduled it)', () => {
    busy = true;
    jobs.runDue();
    expect(jobs.returnWaiting()).toBe(true);
    store.scheduleJob({ key: RETURN_JOB, kind: 'return', runAt: later(3_600_000) });
    expect(jobs.returnWaiting()).toBe(false);
  });
});
