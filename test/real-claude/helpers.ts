import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runInit } from '../../src/accounts/init.js';
import { installedCommands } from '../../src/claude/self-command.js';
import { configFromObject } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import type { SwitchOutcome } from '../../src/switcher/types.js';
import { startAnthropicStandIn, type RecordedRequest, type StandIn } from '../fixtures/anthropic-stand-in/stand-in.js';
import { tmux } from '../helpers/e2e.js';
import { killPrivateServer, privateSocketName } from '../helpers/private-tmux.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

/** One installed Claude Code, as `npm run test:real-claude` passes it in. */
export interface RealClaude {
  readonly path: string;
  readonly version: string;
}

function fromEnv(pathVar: string, versionVar: string): RealClaude {
  const path = process.env[pathVar];
  const version = process.env[versionVar];
  if (!path || !version || !existsSync(path)) {
    throw new Error(`${pathVar} does not name an installed Claude Code: run this suite with \`npm run test:real-claude\` (it installs the CLI and runs the tests in a loopback-only network namespace)`);
  }
  return { path, version };
}

/** The main version the suite is written against (2.1.330). */
export const mainClaude = (): RealClaude => fromEnv('CLAUDE_FAILOVER_REAL_CLAUDE', 'CLAUDE_FAILOVER_REAL_CLAUDE_VERSION');
/** An older version people still run (2.0.77, a JavaScript package). */
export const olderClaude = (): RealClaude => fromEnv('CLAUDE_FAILOVER_REAL_CLAUDE_OLDER', 'CLAUDE_FAILOVER_REAL_CLAUDE_OLDER_VERSION');

/** The fake subscription login of an account: its own access token, which the stand-in keys on. */
export const tokenOf = (account: string): string => `sk-ant-oat01-cf-test-${account}`;

export interface RealSandboxOptions {
  readonly claude: RealClaude;
  readonly accounts: readonly string[];
  readonly autonomous?: { readonly min: number; readonly max: number };
  readonly dedicated?: readonly string[];
  /** Raw `monitor` settings over the suite's (fast poll, no cooldown, short return margin). */
  readonly monitor?: Record<string, unknown>;
  readonly daemon?: Partial<DaemonOptions>;
}

export interface RealSandbox {
  readonly root: string;
  readonly socket: string;
  readonly config: Config;
  readonly standIn: StandIn;
  readonly daemon: Daemon;
  readonly outcomes: SwitchOutcome[];
  readonly daemonLog: string;
  doneSwaps(): Extract<SwitchOutcome, { result: 'done' }>[];
  /** The conversation id the daemon knows for a pool session. */
  sessionIdOf(name: string): string;
  /** The visible screen of a pool session. */
  screen(name: string): string;
  /** Requests that are turns of a conversation (they carry tools), for one account and/or session. */
  turns(filter?: { account?: string; sessionId?: string }): RecordedRequest[];
  /** The daemon's JSON log lines so far (debug and up). */
  daemonLogRecords(): Record<string, unknown>[];
  /** What a failing test prints: the stand-in's log, every pane, the daemon's log tail. */
  diagnostics(): string;
  close(): Promise<void>;
}

async function writeJson(path: string, value: unknown, mode: number): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n', { mode });
  await chmod(temp, mode);
  await rename(temp, path);
}

/**
 * A sandbox for the real CLI: temp home with account homes prepared by the project's own
 * `init` (so the hooks and settings under test are the ones `init` writes), a fake
 * subscription login per account, the stand-in API, the env that keeps the CLI offline and
 * inside the temp dir, a private tmux socket, and the daemon started on it.
 */
export async function startRealSandbox(options: RealSandboxOptions): Promise<RealSandbox> {
  const root = await makeTempDir('cf-real');
  const socket = privateSocketName('cf-real');
  const standIn = await startAnthropicStandIn();
  const logFile = join(root, 'daemon.log');
  const logStream: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const home = join(root, 'home');
  const projects = join(root, 'projects');
  const dedicated = (options.dedicated ?? []).map((name) => ({ name, project: join(projects, name) }));
  const autoProject = join(projects, 'autonomous');
  const tmp = join(root, 'claude-tmp');
  const runtime = join(root, 'runtime');
  await Promise.all([home, autoProject, tmp, runtime, ...dedicated.map((d) => d.project)].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
  const raw: Record<string, unknown> = {
    home,
    sharedDir: join(root, 'shared'),
    stateDir: join(root, 'state'),
    accounts: options.accounts.map((name) => ({ name, home: join(home, `.claude-${name}`) })),
    claude: {
      command: options.claude.path,
      args: ['--dangerously-skip-permissions'],
      env: {
        HOME: home,
        ANTHROPIC_BASE_URL: standIn.url,
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_ERROR_REPORTING: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        CLAUDE_CODE_TMPDIR: tmp,
        XDG_RUNTIME_DIR: runtime,
        // Tests run as root: without it --dangerously-skip-permissions exits at once.
        IS_SANDBOX: '1',
      },
    },
    tmux: { socket },
    pool: {
      autonomous: { prefix: 'auto-', startIndex: 1, min: options.autonomous?.min ?? 0, max: options.autonomous?.max ?? 0, project: autoProject },
      dedicated,
    },
    monitor: { pollIntervalMs: 300, cooldownMs: 0, returnMarginMs: 500, ...options.monitor },
    server: { listen: '127.0.0.1:0' },
  };
  const result = configFromObject(raw, { baseDir: root, env: { ...process.env, HOME: home } });
  if (!result.ok) throw new Error(`real-claude sandbox config is invalid:\n${result.report}`);
  const config = result.config;
  await writeFile(join(root, 'config.yaml'), stringify(raw), { mode: 0o600 });
  await runInit(config, { dryRun: false, commands: installedCommands(config), log: () => undefined });
  for (const account of config.accounts) {
    await writeJson(
      join(account.home, '.credentials.json'),
      {
        claudeAiOauth: {
          accessToken: tokenOf(account.name),
          refreshToken: `sk-ant-ort01-cf-test-${account.name}`,
          expiresAt: Date.now() + 365 * 24 * 3600_000,
          scopes: ['user:inference', 'user:profile', 'user:sessions:claude_code'],
          subscriptionType: 'max',
          rateLimitTier: 'default_claude_max_5x',
        },
      },
      0o600,
    );
  }
  const outcomes: SwitchOutcome[] = [];
  const logger = createLogger({ pretty: false, level: 'debug', destination: logStream });
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ config, logger, reconcileMs: 500, onSwap: (o) => outcomes.push(o), ...options.daemon });
  } catch (err) {
    await standIn.close();
    await killPrivateServer(socket);
    throw err;
  }
  const poolNames = [
    ...Array.from({ length: options.autonomous?.max ?? 0 }, (_, i) => `auto-${String(i + 1)}`),
    ...dedicated.map((d) => d.name),
  ];
  const screen = (name: string) => {
    try {
      return tmux(socket, 'capture-pane', '-p', '-t', `=${name}:`);
    } catch (err) {
      return `(no screen: ${err instanceof Error ? err.message : String(err)})`;
    }
  };
  const sandbox: RealSandbox = {
    root,
    socket,
    config,
    standIn,
    daemon,
    outcomes,
    daemonLog: logFile,
    doneSwaps: () => outcomes.filter((o): o is Extract<SwitchOutcome, { result: 'done' }> => o.result === 'done'),
    sessionIdOf: (name) => {
      const id = daemon.store.getSession(name)?.sessionId;
      if (!id) throw new Error(`the daemon knows no session id for ${name}`);
      return id;
    },
    screen,
    turns: (filter = {}) =>
      standIn
        .messageRequests({
          ...(filter.account ? { token: tokenOf(filter.account) } : {}),
          ...(filter.sessionId ? { sessionId: filter.sessionId } : {}),
        })
        .filter((r) => r.hasTools),
    daemonLogRecords: () =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    diagnostics: () => {
      const accountOf = new Map(options.accounts.map((a) => [tokenOf(a), a]));
      const requests = standIn.requests.map(
        (r) =>
          `  ${new Date(r.at).toISOString()} ${r.method} ${r.path} ${accountOf.get(r.token ?? '') ?? r.token ?? '-'} session=${r.sessionId ?? '-'} tools=${String(r.hasTools)} toolResult=${String(r.lastUserHasToolResult)} → ${r.reply} ${String(r.status)} last=${JSON.stringify(lastLine(r.lastUserText))}`,
      );
      const panes = poolNames.map((n) => `--- pane ${n} (${daemon.store.getSession(n)?.state ?? '?'}, ${daemon.store.getSession(n)?.account ?? '?'}, ${daemon.store.getSession(n)?.sessionId ?? '?'}):\n${screen(n).replace(/\n+$/, '')}`);
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"level":3') || l.includes('"level":4') || l.includes('"level":5')).slice(-60).join('\n');
      } catch {
        log = '(no daemon log)';
      }
      const swaps = outcomes.map((o) => `  ${JSON.stringify(o)}`);
      return [`=== Claude Code ${options.claude.version}; sandbox ${root}`, '=== stand-in requests', ...requests, '=== swaps', ...swaps, '=== panes', ...panes, '=== daemon log (info and up, last 60)', log].join('\n');
    },
    close: async () => {
      try {
        await daemon.stop();
      } finally {
        await killPrivateServer(socket);
        await standIn.close();
        await new Promise<void>((resolve) => logStream.end(resolve));
        if (!process.env.CF_REAL_CLAUDE_KEEP) await removeTempDir(root);
      }
    },
  };
  return sandbox;
}

/** The last meaningful line of a user message (the prompt, after any system reminders). */
function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('<'));
  return (lines.at(-1) ?? '').slice(0, 80);
}

/** Dialogs that stop a real CLI before its prompt, and what they mean here. */
const BLOCKING_DIALOGS: readonly (readonly [RegExp, string])[] = [
  [/Bypass Permissions mode[\s\S]*No, exit/, 'the bypass-permissions warning (2.0.x reads `bypassPermissionsModeAccepted` in .claude.json; 2.1.x `skipDangerousModePermissionPrompt` in settings.json)'],
  [/Settings Error|Files with errors are skipped entirely/, 'a settings.json this version rejects (e.g. a hook event it does not know)'],
  [/Quick safety check|Is this a project you created or one you trust/, 'the trust dialog (the project folder is not trusted in .claude.json)'],
  [/Unable to connect to Anthropic services/, 'the connectivity check (onboarding not marked done)'],
];

/** The dialog a pool session is stopped at before its prompt, if any. */
function blockedAt(sandbox: RealSandbox, names: readonly string[]): string | null {
  for (const name of names) {
    const screen = sandbox.screen(name);
    for (const [pattern, meaning] of BLOCKING_DIALOGS) {
      if (pattern.test(screen)) return `${name} is stopped at ${meaning}, before its prompt; what init wrote does not suit this Claude Code. Screen:\n${screen}`;
    }
  }
  return null;
}

/**
 * Waits for every named pool session to be idle at its prompt with a known conversation;
 * fails at once, naming the dialog, when one is stopped at a dialog instead.
 */
export async function waitForIdle(sandbox: RealSandbox, names: readonly string[], timeoutMs = 60_000): Promise<void> {
  const seen = await waitFor(
    async (): Promise<boolean | { blocked: string }> => {
      await sandbox.daemon.tick();
      const blocked = blockedAt(sandbox, names);
      if (blocked) return { blocked };
      const sessions = sandbox.daemon.store.listSessions();
      return names.every((n) => {
        const s = sessions.find((x) => x.name === n);
        return s?.state === 'idle' && typeof s.sessionId === 'string';
      });
    },
    { timeoutMs, intervalMs: 200, what: `pool sessions ${names.join(', ')} idle` },
  );
  if (seen !== true) throw new Error(seen.blocked);
}

/** Waits for a turn matching `probe` at the stand-in and returns it. */
export async function waitForTurn(sandbox: RealSandbox, what: string, probe: (r: RecordedRequest) => boolean, timeoutMs = 60_000): Promise<RecordedRequest> {
  return waitFor(() => sandbox.turns().find(probe), { timeoutMs, intervalMs: 100, what });
}

export const includesPrompt = (r: RecordedRequest, text: string): boolean => r.lastUserText.includes(text);

/** How many times `text` is in the last user message: a prompt typed twice into one input shows as 2. */
export const timesInPrompt = (r: RecordedRequest, text: string): number => r.lastUserText.split(text).length - 1;

/** The real CLI's own continue once a limit has reset (REAL-CLAUDE.md, "Auto-continue"). */
export const CLI_AUTO_CONTINUE = 'usage limit has reset';

/** Scenario (a) and friends repeat this many times when CLAUDE_FAILOVER_REAL_CLAUDE_REPEAT is set. */
export function repeatCount(): number {
  const n = Number(process.env.CLAUDE_FAILOVER_REAL_CLAUDE_REPEAT ?? '1');
  return Number.isInteger(n) && n > 0 ? n : 1;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
