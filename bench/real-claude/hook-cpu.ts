import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HOOK_PATH, resolveHookEndpoint } from '../../src/accounts/hook-endpoint.js';
import { capabilitiesOf, parseClaudeVersion } from '../../src/claude/claude-version.js';
import { launchCommandLine } from '../../src/claude/launch-command.js';
import { mergeSettings, seedClaudeJson } from '../../src/claude/settings-file.js';
import { installedCommands } from '../../src/claude/self-command.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { startRealSandbox, type RealClaude, type RealSandbox } from '../../test/real-claude/helpers.js';
import { childrenCpuSeconds, cpuSeconds } from '../proc-usage.js';
import { readDaemonLog } from './daemon-log.js';
import { spread, type Spread } from './summary.js';
import { startTapProxy, transits } from './tap-proxy.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How a probe session's settings.json delivers the daemon's hooks. */
export type HookStyle = 'none' | 'http' | 'command';
const STYLES: readonly HookStyle[] = ['none', 'http', 'command'];

export interface CliCpuFigure {
  readonly prompts: number;
  /** CPU of the Claude Code process and its reaped children (command hooks), per prompt. */
  readonly cpuMsPerPrompt: number;
  /** The same, per round (rounds interleave the styles, so load on the machine hits all of them). */
  readonly roundsMsPerPrompt: readonly number[];
  readonly wallMsPerPrompt: number;
  /** CPU of the idle CLI over a few seconds, in % of one core (it runs in every prompt's wall time too). */
  readonly idleCpuPercent: number;
}

export interface ProcessCpuFigure {
  readonly runs: number;
  /** user + system CPU of the command and every process it started, per run (bash `times`). */
  readonly cpuMsPerRun: number;
  readonly wallMsPerRun: number;
}

export interface HookCpuResult {
  readonly hookEventsPerPrompt: number;
  readonly cli: Record<HookStyle, CliCpuFigure>;
  /** (style − none) ÷ hook events per prompt: what one hook event costs Claude Code. */
  readonly perEventMs: { readonly http: number; readonly command: number };
  /**
   * The HTTP probe's hooks went through a pass-through in front of the daemon: from a hook
   * request's first bytes leaving Claude Code to the daemon's `hook` log line for it.
   */
  readonly httpTransit: Spread;
  /** Each command Claude Code would run, alone, through `sh -c` as Claude Code runs it. */
  readonly processes: Record<'shell only' | 'hook relay (Node)' | 'statusline script (bash)' | 'statusline relay (Node)', ProcessCpuFigure>;
}

interface Probe {
  readonly style: HookStyle;
  readonly sessionId: string;
  readonly name: string;
  readonly pid: number;
  cpuMs: number;
  wallMs: number;
  prompts: number;
  readonly rounds: number[];
  idleCpuPercent: number;
}

/** CPU seconds of a process and its waited-for children (a command hook is one). */
const totalCpuMs = (pid: number) => 1000 * (cpuSeconds(pid) + childrenCpuSeconds(pid));

/** A Claude Code home of our own for one style: the alpha login, trust for `cwd`, hooks as `style` says, no statusline. */
function probeHome(sandbox: RealSandbox, claude: RealClaude, style: HookStyle, cwd: string, hookBase: string): string {
  const { config } = sandbox;
  const home = join(sandbox.root, `probe-${style}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const alpha = config.accounts[0];
  if (!alpha) throw new Error('no account');
  copyFileSync(join(alpha.home, '.credentials.json'), join(home, '.credentials.json'));
  writeFileSync(join(home, '.claude.json'), JSON.stringify(seedClaudeJson({}, [cwd])), { mode: 0o600 });
  const published = style === 'http' ? resolveHookEndpoint(config, { create: false }) : null;
  if (style === 'http' && !published) throw new Error('the daemon published no hook listener');
  const endpoint = published ? { url: `${hookBase}${HOOK_PATH}`, token: published.token } : null;
  const settings = mergeSettings({}, installedCommands(config), {
    skipBypassPrompt: true,
    claude: capabilitiesOf(parseClaudeVersion(claude.version)),
    endpoint,
    statusLineScript: null,
  });
  delete settings.statusLine;
  if (style === 'none') delete settings.hooks;
  writeFileSync(join(home, 'settings.json'), JSON.stringify(settings, null, 2), { mode: 0o600 });
  return home;
}

const idleScreen = (screen: string) => /❯\u00a0/.test(screen) && !/esc to interrupt/.test(screen);

async function capture(socket: string, name: string): Promise<string> {
  return (await run('tmux', ['-L', socket, 'capture-pane', '-p', '-t', `=${name}:`])).stdout;
}

async function startProbe(sandbox: RealSandbox, claude: RealClaude, style: HookStyle, cwd: string, hookBase: string): Promise<Probe> {
  const { config, socket } = sandbox;
  const home = probeHome(sandbox, claude, style, cwd, hookBase);
  const name = `probe-${style}`;
  const sessionId = randomUUID();
  const command = launchCommandLine({ accountHome: home, command: claude.path, args: config.claude.args, env: config.claude.env, newSessionId: sessionId });
  const { paneId } = await sandbox.daemon.tmux.newSession({ name, cwd, command });
  await waitFor(async () => idleScreen(await capture(socket, name)), { timeoutMs: 30_000, intervalMs: 100, what: `${name} at its prompt` });
  const pid = Number((await run('tmux', ['-L', socket, 'display-message', '-p', '-t', paneId, '#{pane_pid}'])).stdout.trim());
  return { style, sessionId, name, pid, cpuMs: 0, wallMs: 0, prompts: 0, rounds: [], idleCpuPercent: NaN };
}

/** One prompt, answered: typed, its request at the stand-in, the idle prompt back, the Stop hook's process reaped. */
async function onePrompt(sandbox: RealSandbox, probe: Probe, label: string): Promise<void> {
  const { socket, standIn } = sandbox;
  const text = `CPU-PROBE <${probe.style} ${label}>`;
  await run('tmux', ['-L', socket, 'send-keys', '-t', `=${probe.name}:`, '-l', '--', text]);
  await run('tmux', ['-L', socket, 'send-keys', '-t', `=${probe.name}:`, 'Enter']);
  await waitFor(() => standIn.requests.some((r) => r.hasTools && r.lastUserText.includes(text)), { timeoutMs: 30_000, intervalMs: 50, what: `${probe.name}: ${text} at the stand-in` });
  await waitFor(async () => idleScreen(await capture(socket, probe.name)), { timeoutMs: 30_000, intervalMs: 100, what: `${probe.name} idle after ${text}` });
  // A command Stop hook (a Node start, ~0.1-0.2 s) has ended and been reaped by then.
  await sleep(600);
}

/**
 * The CPU a hook event costs Claude Code, measured on the CLI process itself: three probe
 * sessions (no hooks, HTTP hooks to the daemon, command hooks through the relay) answer the
 * same prompts in interleaved rounds; per prompt the CLI fires UserPromptSubmit and Stop.
 * Then each command Claude Code could run for an event, alone.
 */
export async function hookCpu(claude: RealClaude, options: { rounds: number; promptsPerRound: number; processRuns: number }): Promise<HookCpuResult> {
  const sandbox = await startRealSandbox({ claude, accounts: ['alpha', 'beta'] });
  const daemonUrl = new URL(sandbox.daemon.httpUrl ?? 'http://127.0.0.1:0');
  const tap = await startTapProxy({ host: daemonUrl.hostname, port: Number(daemonUrl.port) });
  try {
    const cwd = join(sandbox.root, 'probe-project');
    mkdirSync(cwd, { recursive: true });
    const probes: Probe[] = [];
    for (const style of STYLES) probes.push(await startProbe(sandbox, claude, style, cwd, tap.url));
    for (const probe of probes) for (let i = 0; i < 2; i++) await onePrompt(sandbox, probe, `warm-up ${String(i)}`);
    for (const probe of probes) {
      const before = totalCpuMs(probe.pid);
      await sleep(3000);
      probe.idleCpuPercent = (100 * (totalCpuMs(probe.pid) - before)) / 3000;
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const probe of probes) {
        const cpuBefore = totalCpuMs(probe.pid);
        const wallBefore = Date.now();
        for (let i = 0; i < options.promptsPerRound; i++) await onePrompt(sandbox, probe, `round ${String(round)} prompt ${String(i)}`);
        const cpu = totalCpuMs(probe.pid) - cpuBefore;
        probe.cpuMs += cpu;
        probe.wallMs += Date.now() - wallBefore;
        probe.prompts += options.promptsPerRound;
        probe.rounds.push(cpu / options.promptsPerRound);
      }
    }
    const figure = (style: HookStyle): CliCpuFigure => {
      const p = probes.find((x) => x.style === style);
      if (!p) throw new Error(`no ${style} probe`);
      return { prompts: p.prompts, cpuMsPerPrompt: p.cpuMs / p.prompts, roundsMsPerPrompt: p.rounds, wallMsPerPrompt: p.wallMs / p.prompts, idleCpuPercent: p.idleCpuPercent };
    };
    const cli: Record<HookStyle, CliCpuFigure> = { none: figure('none'), http: figure('http'), command: figure('command') };
    const eventsPerPrompt = 2;
    const perEvent = (style: HookStyle) => (cli[style].cpuMsPerPrompt - cli.none.cpuMsPerPrompt) / eventsPerPrompt;
    const httpProbe = probes.find((p) => p.style === 'http');
    const receipts = readDaemonLog(sandbox.daemonLog)
      .filter((r) => r.msg === 'hook' && r.sessionId === httpProbe?.sessionId && r.event !== 'SessionStart')
      .map((r) => r.time);
    const httpTransit = spread(transits(tap.requestStarts, receipts));
    return { hookEventsPerPrompt: eventsPerPrompt, cli, perEventMs: { http: perEvent('http'), command: perEvent('command') }, httpTransit, processes: await processCosts(sandbox, options.processRuns) };
  } finally {
    await tap.close();
    await sandbox.close();
  }
}

/** `times` in bash: its children's user and system time, the second line ("0m1.234s 0m0.567s"). */
function childrenTimes(output: string): number {
  const line = output.trim().split('\n').at(-1) ?? '';
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (parts.length !== 2) throw new Error(`unexpected output of bash times: ${JSON.stringify(output)}`);
  return ((parts[0] ?? 0) + (parts[1] ?? 0)) * 1000;
}

async function processCost(command: string, payload: string, runs: number, env: NodeJS.ProcessEnv): Promise<ProcessCpuFigure> {
  const script = 'for ((i=0; i<$3; i++)); do sh -c "$1" < "$2" > /dev/null 2>&1; done; times';
  const started = performance.now();
  const { stdout } = await run('bash', ['-c', script, 'bench', command, payload, String(runs)], { env });
  const wall = performance.now() - started;
  return { runs, cpuMsPerRun: childrenTimes(stdout) / runs, wallMsPerRun: wall / runs };
}

/** Each command Claude Code could run per event, with the daemon listening, `runs` times in a row. */
async function processCosts(sandbox: RealSandbox, runs: number): Promise<HookCpuResult['processes']> {
  const { config } = sandbox;
  const alpha = config.accounts[0];
  if (!alpha) throw new Error('no account');
  const commands = installedCommands(config);
  // What the daemon wrote once its listener was up: the bash script posting to it.
  const written = JSON.parse(readFileSync(join(alpha.home, 'settings.json'), 'utf8')) as { statusLine?: { command?: string } };
  const scriptCommand = written.statusLine?.command;
  if (!scriptCommand?.includes('statusline.sh')) throw new Error(`the daemon did not install the bash statusline: ${JSON.stringify(scriptCommand)}`);
  const hookPayload = join(sandbox.root, 'hook-payload.json');
  writeFileSync(hookPayload, JSON.stringify({ session_id: randomUUID(), transcript_path: join(sandbox.root, 'none.jsonl'), cwd: sandbox.root, hook_event_name: 'Stop' }));
  const statusPayload = join(sandbox.root, 'statusline-payload.json');
  writeFileSync(
    statusPayload,
    JSON.stringify({ session_id: randomUUID(), transcript_path: join(sandbox.root, 'none.jsonl'), cwd: sandbox.root, model: { id: 'claude-sonnet-4-5', display_name: 'Sonnet' }, rate_limits: { five_hour: { used_percentage: 42, resets_at: Math.floor(Date.now() / 1000) + 3600 }, seven_day: { used_percentage: 5, resets_at: Math.floor(Date.now() / 1000) + 86400 } } }),
  );
  const env = { ...process.env, TMUX_PANE: '%999' };
  return {
    'shell only': await processCost('true', hookPayload, runs, env),
    'hook relay (Node)': await processCost(commands.hookCommand('Stop'), hookPayload, runs, env),
    'statusline script (bash)': await processCost(scriptCommand, statusPayload, runs, env),
    'statusline relay (Node)': await processCost(commands.statusLineCommand(null), statusPayload, runs, env),
  };
}
