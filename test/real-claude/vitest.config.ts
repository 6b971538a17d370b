import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { isolatedTestEnv } from '../helpers/isolated-home.js';

// The real Claude Code suite (`npm run test:real-claude`, which runs this inside a
// loopback-only network namespace). Like the main vitest.config.ts, tests never see the
// real home.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default defineConfig({
  root,
  test: {
    include: ['test/real-claude/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env: isolatedTestEnv(),
    // Real CLIs, real swaps and waits past real reset times: one at a time, with room.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
