import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The environment every suite's tests run with: anything that falls back to $HOME or the XDG
 * dirs lands in a temp dir (removed by test/global-setup.ts), never in the developer's
 * ~/.claude or state. Shared by each vitest config so the suites cannot drift apart.
 */
export function isolatedTestEnv(): Record<string, string> {
  const testHome = join(tmpdir(), `cf-test-home-${process.pid}`);
  mkdirSync(testHome, { recursive: true, mode: 0o700 });
  return {
    HOME: testHome,
    XDG_CONFIG_HOME: join(testHome, '.config'),
    XDG_STATE_HOME: join(testHome, '.local/state'),
    CLAUDE_FAILOVER_CONFIG: '',
  };
}
