import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { isolatedTestEnv } from '../helpers/isolated-home.js';

// The reliability probes (`npm run test:reliability`): crashes at random moments, storms,
// faults, bad input, a long run, security. Each probe writes its figures to
// reliability-results/ (see test/reliability/figures.ts); docs/RELIABILITY.md lists them.
// The real Claude Code probes live in test/real-claude/ (they need its network namespace).
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default defineConfig({
  root,
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env: isolatedTestEnv(),
    // Storms of 50 sessions and a long run: one probe at a time, so figures are not skewed by
    // another probe sharing the two cores.
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
