import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFromObject } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A config for the accounts module inside `dir`: a home, account homes, a shared dir, pool projects. */
export interface TestLayout {
  readonly dir: string;
  readonly home: string;
  readonly config: Config;
  /** The same config as a file, for the built CLI. */
  readonly configFile: string;
}

export interface LayoutOptions {
  /** Account name → home path relative to the home dir; default `.claude-<name>` for A and B. */
  readonly accounts?: Readonly<Record<string, string>>;
  readonly claudeArgs?: readonly string[];
  /** Raw config sections (monitor, notify…) merged over the layout's. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

export async function makeLayout(dir: string, options: LayoutOptions = {}): Promise<TestLayout> {
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const accounts = options.accounts ?? { A: '.claude-A', B: '.claude-B' };
  const raw = {
    home,
    sharedDir: join(home, '.claude-shared'),
    stateDir: join(dir, 'state'),
    accounts: Object.entries(accounts).map(([name, rel]) => ({ name, home: join(home, rel) })),
    claude: { command: join(root, 'test/fixtures/fake-claude/claude'), args: [...(options.claudeArgs ?? ['--dangerously-skip-permissions'])] },
    pool: {
      autonomous: { prefix: 'auto-', startIndex: 1, min: 0, max: 1, project: join(dir, 'projects', 'auto') },
      dedicated: [{ name: 'web', project: join(dir, 'projects', 'web') }],
    },
    ...options.overrides,
  };
  const result = configFromObject(raw, { baseDir: dir, env: { HOME: home } });
  if (!result.ok) throw new Error(`test layout config is invalid:\n${result.report}`);
  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, JSON.stringify(raw, null, 2)); // JSON is YAML
  return { dir, home, config: result.config, configFile };
}

/** A (fake) login in an account home: its own credentials file and the identity in .claude.json. */
export async function writeLogin(accountHome: string, login: { refreshToken: string; accountUuid?: string; email?: string }): Promise<void> {
  const credentials = { claudeAiOauth: { accessToken: `at-${login.refreshToken}`, refreshToken: login.refreshToken, expiresAt: Date.now() + 3600_000 } };
  await writeFile(join(accountHome, '.credentials.json'), JSON.stringify(credentials), { mode: 0o600 });
  const claudeJsonPath = join(accountHome, '.claude.json');
  const claudeJson = JSON.parse(await readFile(claudeJsonPath, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  const oauthAccount: Record<string, string> = {};
  if (login.accountUuid) oauthAccount.accountUuid = login.accountUuid;
  if (login.email) oauthAccount.emailAddress = login.email;
  await writeFile(claudeJsonPath, JSON.stringify({ ...claudeJson, oauthAccount }), { mode: 0o600 });
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Every entry under `dir`, links not followed: relative path → type, mode and content
 * (sha256 of a file, target of a link). Two equal snapshots mean nothing was changed.
 */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    for (const name of (await readdir(path)).sort()) {
      const entry = join(path, name);
      const info = await lstat(entry);
      const mode = (info.mode & 0o7777).toString(8);
      const rel = relative(dir, entry);
      if (info.isSymbolicLink()) out.set(rel, `link ${await readlink(entry)}`);
      else if (info.isDirectory()) {
        out.set(rel, `dir ${mode}`);
        await walk(entry);
      } else out.set(rel, `file ${mode} ${sha256(await readFile(entry))}`);
    }
  };
  await walk(dir);
  return out;
}

/** sha256 of every regular file under `dir` (links not followed), by relative path. */
export async function fileChecksums(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [rel, what] of await snapshotTree(dir)) if (what.startsWith('file ')) out.set(rel, what.split(' ')[2] ?? '');
  return out;
}
