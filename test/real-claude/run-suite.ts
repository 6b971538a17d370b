// `npm run test:real-claude`: the real Claude Code CLI against the project's stand-in API.
//
// 1. Installs the pinned CLI versions (outside the namespace: it needs the network once).
// 2. Checks that a loopback-only network namespace can be made (`unshare -n`); if not, says
//    so and fails: the suite never passes without having run.
// 3. Runs vitest (test/real-claude/vitest.config.ts) inside that namespace, so the tmux
//    server, the stand-in, the daemon and every CLI reach nothing but 127.0.0.1.
//
// Extra arguments go to vitest (a file, `-t <name>`).
// CLAUDE_FAILOVER_REAL_CLAUDE_REPEAT=10 runs scenario (a) ten times in a row.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAIN_VERSION, OLDER_VERSION, installClaude } from './install-claude.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function notRun(message: string): never {
  process.stderr.write(`\nreal-claude suite NOT RUN: ${message}\n`);
  process.exit(2);
}

let mainPath = '';
let olderPath = '';
try {
  mainPath = installClaude(MAIN_VERSION);
  olderPath = installClaude(OLDER_VERSION);
} catch (err) {
  notRun(`installing the pinned Claude Code versions failed: ${err instanceof Error ? err.message : String(err)}`);
}

const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec true'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  const why = probe.error ? probe.error.message : (probe.stderr.trim() || `exit ${String(probe.status)}`);
  notRun(
    `a loopback-only network namespace is refused here (unshare -n, then ip link set lo up): ${why}\n` +
      'The suite runs the real CLI only inside one, so that nothing leaves the machine: run it as root, or where unprivileged user namespaces are allowed.',
  );
}

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const started = Date.now();
const run = spawnSync(
  'unshare',
  ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, vitest, 'run', '--config', join(here, 'vitest.config.ts'), ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      CLAUDE_FAILOVER_REAL_CLAUDE: mainPath,
      CLAUDE_FAILOVER_REAL_CLAUDE_VERSION: MAIN_VERSION,
      CLAUDE_FAILOVER_REAL_CLAUDE_OLDER: olderPath,
      CLAUDE_FAILOVER_REAL_CLAUDE_OLDER_VERSION: OLDER_VERSION,
    },
  },
);
process.stderr.write(`real-claude suite: ${((Date.now() - started) / 1000).toFixed(1)} s, Claude Code ${MAIN_VERSION} and ${OLDER_VERSION}\n`);
if (run.error) notRun(`vitest could not start in the namespace: ${run.error.message}`);
process.exit(run.status ?? 1);
