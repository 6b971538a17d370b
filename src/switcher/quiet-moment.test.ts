import { describe, expect, it } from 'vitest';
import { waitForQuietMoment } from './quiet-moment.js';

/** A clock that moves only when the waiter sleeps. */
function fakeTime() {
  let t = 0;
  return { now: () => new Date(t), sleep: (ms: number) => { t += ms; return Promise.resolve(); }, elapsed: () => t };
}

describe('waitForQuietMoment', () => {
  it('goes at once when nothing is working', async () => {
    const time = fakeTime();
    expect(await waitForQuietMoment({ busy: () => false, graceMs: 60_000, checkEveryMs: 500, ...time })).toEqual({ quiet: true, waitedMs: 0 });
  });

  it('waits for the working sessions to finish their answers', async () => {
    const time = fakeTime();
    const busyUntil = 7_250;
    const result = await waitForQuietMoment({ busy: () => time.elapsed() < busyUntil, graceMs: 60_000, checkEveryMs: 500, ...time });
    expect(result).toEqual({ quiet: true, waitedMs: 7_500 });
  });

  it('gives up at the end of the grace period, never later', async () => {
    const time = fakeTime();
    const result = await waitForQuietMoment({ busy: () => true, graceMs: 1_200, checkEveryMs: 500, ...time });
    expect(result).toEqual({ quiet: false, waitedMs: 1_200 });
  });
});
