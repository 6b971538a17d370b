import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

describe('SerialQueue', () => {
  it('runs tasks one at a time in order, and a failure does not stall the rest', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = queue.run(async () => {
      events.push('first:start');
      await gate;
      events.push('first:end');
      return 1;
    });
    const second = queue.run(() => {
      events.push('second');
      return Promise.reject(new Error('boom'));
    });
    const third = queue.run(() => {
      events.push('third');
      return Promise.resolve(3);
    });
    expect(queue.size).toBe(3);
    await Promise.resolve();
    expect(events).toEqual(['first:start']);
    release();
    await expect(first).resolves.toBe(1);
    await expect(second).rejects.toThrow('boom');
    await expect(third).resolves.toBe(3);
    expect(events).toEqual(['first:start', 'first:end', 'second', 'third']);
    await queue.idle();
    expect(queue.size).toBe(0);
  });
});
