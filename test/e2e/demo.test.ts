import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the demo (the README\'s first command)', () => {
  it('runs a real failover and a return in a sandbox, narrates them, cleans up and exits 0', () => {
    const result = spawnSync(process.execPath, [join(process.cwd(), 'dist/cli/main.js'), 'demo'], { encoding: 'utf8', timeout: 170_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/LIMIT on alpha: seen through the (hook|transcript|screen) signal/);
    expect(out).toContain('SWAP switched alpha → bravo; 3/3 session(s) moved');
    expect(out).toMatch(/auto-1: resumed conversation [0-9a-f-]{36}, sent the continuation prompt/);
    expect(out).toContain('SWAP switched bravo → alpha; 3/3 session(s) moved');
    expect(out).toContain('back on alpha; link → alpha');
    const sandbox = /sandbox in (\S+);/.exec(out)?.[1];
    expect(sandbox).toBeDefined();
    expect(spawnSync('test', ['-e', sandbox ?? '/']).status).toBe(1);
  }, 180_000);
});
