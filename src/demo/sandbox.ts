import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { configFromObject } from '../config/load.js';
import type { Config } from '../config/types.js';
import { runInit } from '../accounts/init.js';
import { installedCommands } from '../claude/self-command.js';
import { tempPathFor } from '../temp-path.js';

/** The fake Claude Code's quota control file (see test/fixtures/fake-claude/README.md). */
export interface FakeQuota {
  limit: number;
  used?: number;
  windowSeconds?: number;
  resetsAt?: number | null;
  kind?: 'five_hour' | 'seven_day';
  turnMs?: number;
  /** The warning line appears at or above this percentage of the limit. */
  warnPercent?: number;
  timeZone?: string;
  /** The fake dies at start with this message (a launch that fails). */
  crashOnStart?: string;
  /** Like Claude Code 2.0.x: resuming a conversation that shows a limit reopens the rate-limit menu (150 ms after start-up, or this many ms). */
  reopenLimitMenu?: boolean | number;
}

export interface SandboxAccount {
  readonly name: string;
  readonly quota: FakeQuota | null;
  /** Write a (fake) login into the home; default true. */
  readonly loggedIn?: boolean;
}

export interface SandboxOptions {
  readonly root: string;
  readonly socket: string;
  readonly accounts: readonly SandboxAccount[];
  readonly autonomous?: { readonly min: number; readonly max: number };
  readonly dedicated?: readonly string[];
  /** Extra raw config sections (monitor, notify, server...) merged over the sandbox's. */
  readonly overrides?: Record<string, unknown>;
}

export interface Sandbox {
  readonly root: string;
  readonly config: Config;
  /** The same config as a YAML file, for the CLI run as a child process. */
  readonly configFile: string;
  readonly fakeClaude: string;
  quotaFile(account: string): string;
  readQuota(account: string): Promise<FakeQuota>;
  setQuota(account: string, patch: Partial<FakeQuota>): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The fake Claude Code shipped with the project: the demo and the tests launch it instead of `claude`. */
export function fakeClaudePath(): string {
  return resolve(here, '../../test/fixtures/fake-claude/claude');
}

interface FakeQuotaModule {
  patchQuota(path: string, patch: Partial<FakeQuota>): void;
}

/**
 * Changes a fake quota file the way the fake's own sessions do, under their lock (the fake's
 * code, not a copy): the sessions of that account may be writing it at the same moment.
 */
export async function patchFakeQuota(file: string, patch: Partial<FakeQuota>): Promise<void> {
  const quota = (await import(pathToFileURL(resolve(here, '../../test/fixtures/fake-claude/quota.mjs')).href)) as FakeQuotaModule;
  quota.patchQuota(file, patch);
}

async function writeJson(path: string, value: unknown, mode = 0o600): Promise<void> {
  const temp = tempPathFor(path);
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n', { mode });
  await chmod(temp, mode);
  await rename(temp, path);
}

/**
 * A complete, self-contained claude-failover installation under `root`: a home with the
 * link, account homes with fake logins and quotas, a shared dir, project dirs, and a
 * config on a private tmux socket. Nothing outside `root` is touched.
 */
export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const root = options.root;
  const home = join(root, 'home');
  const fakeClaude = fakeClaudePath();
  const projects = join(root, 'projects');
  const dedicated = (options.dedicated ?? []).map((name) => ({ name, project: join(projects, name) }));
  const autoProject = join(projects, 'autonomous');
  await Promise.all([home, autoProject, ...dedicated.map((d) => d.project)].map((d) => mkdir(d, { recursive: true })));
  const raw: Record<string, unknown> = {
    home,
    sharedDir: join(root, 'shared'),
    stateDir: join(root, 'state'),
    accounts: options.accounts.map((a) => ({ name: a.name, home: join(home, `.claude-${a.name}`) })),
    claude: { command: fakeClaude, args: ['--dangerously-skip-permissions'], env: { IS_SANDBOX: '1', HOME: home } },
    tmux: { socket: options.socket },
    pool: {
      autonomous: { prefix: 'auto-', startIndex: 1, min: options.autonomous?.min ?? 0, max: options.autonomous?.max ?? 0, project: autoProject },
      dedicated,
    },
    monitor: { pollIntervalMs: 500, cooldownMs: 2000, returnMarginMs: 1000, returnGraceMs: 20_000 },
    server: { listen: '127.0.0.1:0' },
    ...options.overrides,
  };
  const result = configFromObject(raw, { baseDir: root, env: { ...process.env, HOME: home } });
  if (!result.ok) throw new Error(`sandbox config is invalid:\n${result.report}`);
  const config = result.config;
  const configFile = join(root, 'config.yaml');
  await writeFile(configFile, stringify(raw), { mode: 0o600 });

  await runInit(config, { dryRun: false, commands: installedCommands(config), log: () => undefined });
  const quotaFile = (account: string) => join(home, `.claude-${account}`, 'fake-quota.json');
  for (const account of options.accounts) {
    const accountHome = join(home, `.claude-${account.name}`);
    if (account.loggedIn ?? true) {
      await writeJson(join(accountHome, '.credentials.json'), {
        claudeAiOauth: {
          accessToken: `sk-ant-oat01-fake-${account.name}`,
          refreshToken: `sk-ant-ort01-fake-${account.name}`,
          expiresAt: Date.now() + 365 * 24 * 3600_000,
          scopes: ['user:inference', 'user:profile', 'user:sessions:claude_code'],
          subscriptionType: 'max',
        },
      });
    }
    if (account.quota) await writeJson(quotaFile(account.name), account.quota, 0o644);
  }
  return {
    root,
    config,
    configFile,
    fakeClaude,
    quotaFile,
    readQuota: async (account) => JSON.parse(await readFile(quotaFile(account), 'utf8')) as FakeQuota,
    setQuota: (account, patch) => patchFakeQuota(quotaFile(account), patch),
  };
}

export async function removeSandbox(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}
