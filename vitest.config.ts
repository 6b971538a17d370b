import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests never see the real home: anything that falls back to $HOME or the XDG dirs lands in
// a temp dir (removed by test/global-setup.ts), never in the developer's ~/.claude or state.
const testHome = join(tmpdir(), `cf-test-home-${process.pid}`);
mkdirSync(testHome, { recursive: true, mode: 0o700 });

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The real Claude Code suite has its own runner (npm run test:real-claude).
    exclude: ['**/node_modules/**', '**/.git/**', 'test/real-claude/**'],
    globalSetup: ['test/global-setup.ts'],
    env: {
      HOME: testHome,
      XDG_CONFIG_HOME: join(testHome, '.config'),
      XDG_STATE_HOME: join(testHome, '.local/state'),
      CLAUDE_FAILOVER_CONFIG: '',
    },
    // Real tmux servers and real processes: give them room on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
