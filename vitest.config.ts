import { defineConfig } from 'vitest/config';
import { isolatedTestEnv } from './test/helpers/isolated-home.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The real Claude Code suite and the reliability probes have their own runners
    // (npm run test:real-claude, npm run test:reliability).
    exclude: ['**/node_modules/**', '**/.git/**', 'test/real-claude/**', 'test/reliability/**'],
    globalSetup: ['test/global-setup.ts', 'test/postgres-setup.ts'],
    env: isolatedTestEnv(),
    // Real tmux servers and real processes: give them room on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
