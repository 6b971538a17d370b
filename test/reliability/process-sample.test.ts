import { describe, expect, it } from 'vitest';
import { lingeringZombies, type ProcessSample } from './process-sample.js';

const sample = (zombies: number[], tmuxZombies: number[]): ProcessSample => ({ atMs: 0, rssKiB: 0, fds: 0, children: 0, zombies, tmuxZombies, zombieParents: {}, tmuxClients: 0 });

describe('lingeringZombies', () => {
  it('finds a zombie seen in so many samples in a row, in the tree asked for, and not one caught in passing', () => {
    const samples = [sample([1], [7]), sample([1, 2], [7, 8]), sample([3], [7, 8]), sample([3], [9])];
    expect(lingeringZombies(samples).sort()).toEqual([1, 3]);
    expect(lingeringZombies(samples, 'tmux', 2).sort()).toEqual([7, 8]);
    expect(lingeringZombies(samples, 'tmux', 3)).toEqual([7]);
    expect(lingeringZombies([sample([], [5]), sample([], []), sample([], [5])], 'tmux', 2)).toEqual([]);
  });
});
