// Installs pinned @anthropic-ai/claude-code versions once into a cache dir outside the
// repository (not a dependency of this package: users never download it) and prints the
// path of each runnable `claude`.
//
//   npx tsx test/real-claude/install-claude.ts [version...]         one path per line
//   npx tsx test/real-claude/install-claude.ts --json [version...]  {"<version>": "<path>"}
//
// Cache: $CLAUDE_FAILOVER_REAL_CLAUDE_CACHE/<version>, default
// ${XDG_CACHE_HOME:-~/.cache}/claude-failover/real-claude/<version>. A version already
// installed there is reused without touching the network.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@anthropic-ai/claude-code';
/** The version the suite is written against, then an older one people still run. */
export const MAIN_VERSION = '2.1.330';
export const OLDER_VERSION = '2.0.77';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CLAUDE_FAILOVER_REAL_CLAUDE_CACHE) return env.CLAUDE_FAILOVER_REAL_CLAUDE_CACHE;
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'claude-failover', 'real-claude');
}

function installedVersion(dir: string): string | null {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', PACKAGE, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

/** The platform packages recent versions ship their native executable in (see the package's install.cjs). */
function platformPackages(): string[] {
  const { arch, platform } = process;
  if (platform !== 'linux') return [`${PACKAGE}-${platform}-${arch}`];
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const glibc = Boolean(report.header?.glibcVersionRuntime);
  const gnu = `${PACKAGE}-linux-${arch}`;
  const musl = `${PACKAGE}-linux-${arch}-musl`;
  return glibc ? [gnu, musl] : [musl, gnu];
}

/** The runnable `claude` in an install dir: the native executable, or cli.js for older versions. */
export function runnableClaude(dir: string): string | null {
  const modules = join(dir, 'node_modules');
  for (const name of platformPackages()) {
    const native = join(modules, name, 'claude');
    if (existsSync(native)) return native;
  }
  const cli = join(modules, PACKAGE, 'cli.js');
  return existsSync(cli) ? cli : null;
}

function checkVersion(path: string, version: string): void {
  const out = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DISABLE_AUTOUPDATER: '1' } }).trim();
  if (!out.startsWith(version)) throw new Error(`${path} --version printed ${JSON.stringify(out)}, expected ${version}`);
}

/** Installs one exact version (once) and returns the path of its runnable `claude`. */
export function installClaude(version: string, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not an exact version: ${version}`);
  const dir = join(cacheRoot(), version);
  let found = installedVersion(dir) === version ? runnableClaude(dir) : null;
  if (!found) {
    log(`installing ${PACKAGE}@${version} into ${dir}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, dependencies: { [PACKAGE]: version } }, null, 2)}\n`);
    // No install scripts: the native executable is taken from its platform package directly.
    execFileSync('npm', ['install', '--prefix', dir, '--save-exact', '--ignore-scripts', '--no-audit', '--no-fund', `${PACKAGE}@${version}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 600_000,
    });
    if (installedVersion(dir) !== version) throw new Error(`${PACKAGE}@${version} did not land in ${dir}`);
    found = runnableClaude(dir);
    if (!found) throw new Error(`${PACKAGE}@${version} is installed in ${dir} but has neither a native executable for ${process.platform}-${process.arch} nor cli.js`);
  }
  checkVersion(found, version);
  return found;
}

function main(argv: readonly string[]): void {
  const json = argv.includes('--json');
  const versions = argv.filter((a) => a !== '--json');
  const wanted = versions.length > 0 ? versions : [MAIN_VERSION, OLDER_VERSION];
  const paths = Object.fromEntries(wanted.map((version) => [version, installClaude(version)]));
  process.stdout.write(json ? `${JSON.stringify(paths)}\n` : `${Object.values(paths).join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`real-claude install failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
