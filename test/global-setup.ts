import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds dist/ once before the suite: end-to-end tests run the built CLI as a user would,
 * and the hooks installed into test accounts call it (a hook runs on every prompt and
 * answer: the TypeScript loader would add its start-up to each). A failed build does not stop the unit tests;
 * the tests that need dist/ fail on their own, and `npm run typecheck` names the error.
 */
export default function setup(): () => void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'pipe', cwd: root });
  } catch (err) {
    const stdout = (err as { stdout?: Buffer }).stdout;
    const output = stdout ? stdout.toString('utf8') : String(err);
    process.stderr.write(`warning: the build failed, so tests that run dist/ will fail:\n${output.split('\n').slice(0, 10).join('\n')}\n`);
  }
  // The temp home vitest.config.ts made for this run (same process, same pid).
  return () => {
    rmSync(join(tmpdir(), `cf-test-home-${process.pid}`), { recursive: true, force: true });
  };
}
