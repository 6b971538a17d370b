/**
 * The real-CLI figures of `npm run bench` (issue 9): the real Claude Code, offline, inside a
 * loopback-only network namespace. Installs the pinned CLI (outside the namespace: the first
 * time it needs the network), checks that `unshare -n` is allowed, and runs
 * bench/real-claude/inside.ts there. When the namespace is refused the section says so and
 * is skipped: never measured on a network that reaches out.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAIN_VERSION, installClaude } from '../test/real-claude/install-claude.js';
import type { InsideResult } from './real-claude/inside.js';

export type RealClaudeSection =
  | ({ readonly status: 'measured'; readonly date: string; readonly cores: number; readonly loadAverage: { readonly before: number[]; readonly after: number[] }; readonly wallSeconds: number } & InsideResult)
  | { readonly status: 'skipped' | 'failed'; readonly date: string; readonly version: string; readonly reason: string };

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

export function realClaudeBench(say: (line: string) => void): RealClaudeSection {
  const date = new Date().toISOString();
  const skipped = (status: 'skipped' | 'failed', reason: string): RealClaudeSection => {
    say(`\nREAL CLAUDE CODE FIGURES ${status.toUpperCase()}: ${reason}\n`);
    return { status, date, version: MAIN_VERSION, reason };
  };
  let path: string;
  try {
    path = installClaude(MAIN_VERSION, say);
  } catch (err) {
    return skipped('skipped', `Claude Code ${MAIN_VERSION} could not be installed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : probe.stderr.trim() || `exit ${String(probe.status)}`;
    return skipped('skipped', `a loopback-only network namespace is refused here (unshare -n, then ip link set lo up): ${why}. The real CLI is only run inside one; run the bench as root or where unprivileged user namespaces are allowed.`);
  }
  const work = mkdtempSync(join(tmpdir(), 'cf-bench-real-'));
  const home = join(work, 'home');
  const out = join(work, 'figures.json');
  const before = loadavg();
  const started = Date.now();
  try {
    const run = spawnSync(
      'unshare',
      ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, '--import', 'tsx', join(here, 'real-claude', 'inside.ts'), out],
      {
        cwd: root,
        stdio: 'inherit',
        env: {
          ...process.env,
          // As the real-CLI suite does: nothing sees the real home.
          HOME: home,
          XDG_CONFIG_HOME: join(home, '.config'),
          XDG_STATE_HOME: join(home, '.local/state'),
          CLAUDE_FAILOVER_CONFIG: '',
          CLAUDE_FAILOVER_REAL_CLAUDE: path,
          CLAUDE_FAILOVER_REAL_CLAUDE_VERSION: MAIN_VERSION,
        },
      },
    );
    if (run.error) return skipped('failed', `the measurement could not start in the namespace: ${run.error.message}`);
    let inside: InsideResult;
    try {
      inside = JSON.parse(readFileSync(out, 'utf8')) as InsideResult;
    } catch {
      return skipped('failed', `the measurement in the namespace ended (exit ${String(run.status)}) without figures; its output is above`);
    }
    return { status: 'measured', date, cores: cpus().length, loadAverage: { before, after: loadavg() }, wallSeconds: Math.round((Date.now() - started) / 1000), ...inside };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
