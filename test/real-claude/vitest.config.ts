import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The real Claude Code suite (`npm run test:real-claude`, which runs this inside a
// loopback-only network namespace). Like the main vitest.config.ts, tests never see the
// real home.
const testHome = join(tmpdir(), `cf-test-home-${process.pid}`);
mkdirSync(testHome, { recursive: true, mode: 0o700 });

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default defineConfig({
  root,
  test: {
    include: ['test/real-claude/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env: {
      HOME: testHome,
      XDG_CONFIG_HOME: join(testHome, '.config'),
      XDG_STATE_HOME: join(testHome, '.local/state'),
      CLAUDE_FAILOVER_CONFIG: '',
    },
    // Real CLIs, real swaps and waits past real reset times: one at a time, with room.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
