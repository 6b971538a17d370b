/**
 * npm run bench: detection latency per signal, and the daemon's cost with 10, 50 and 100
 * idle sessions against the usual per-session capture-pane polling (real tmux, the fake
 * Claude Code, the built CLI); then the real Claude Code figures (bench/real-claude.ts).
 * Then the fleet's: a limit on one of three hosts → the others off that account (bench/fleet.ts).
 * BENCH_ONLY=fake|tasks|fleet|real-claude runs one part and keeps the others' last figures.
 * Results: bench/results/latest.json and latest.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, type Sandbox } from '../src/demo/sandbox.js';
import { openStore } from '../src/store/sqlite-store.js';
import { createTmuxClient } from '../src/tmux/client.js';
import { Monitor } from '../src/monitor/monitor.js';
import type { LimitSource } from '../src/monitor/limit-event.js';
import { startControlSocket } from '../src/monitor/control-socket.js';
import { watchTranscripts } from '../src/monitor/transcript-watcher.js';
import { parseTranscriptLine } from '../src/claude/transcript-record.js';
import { launchCommandLine } from '../src/claude/launch-command.js';
import { daemonSocketPath } from '../src/claude/self-command.js';
import { silentLogger } from '../src/log.js';
import { endPrivateServer } from '../src/tmux/end-server.js';
import { childrenCpuSeconds, cpuSeconds, percentile, rssMb } from './proc-usage.js';
import { realClaudeBench, type RealClaudeSection } from './real-claude.js';
import { renderTasks, taskFigures, type TaskFigures } from './tasks.js';
import { fleetFigures, renderFleet, type FleetFigures } from './fleet.js';
import { renderRealClaude } from './real-claude/report.js';
import { MAIN_VERSION as REAL_VERSION } from '../test/real-claude/install-claude.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 30);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SIZES = (process.env.BENCH_SIZES ?? '10,50,100').split(',').map(Number);
/** After the last session is idle: the launch's tail (its last hooks, the JIT warming up) is not idling. */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 20);
const POLL_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(line + '\n');

/** `poolSize` sessions in the config (their project dir trusted); `running` of them kept alive by a daemon. */
async function sandboxFor(label: string, sessions: number, quotaLimit: number): Promise<{ sandbox: Sandbox; root: string; socket: string }> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), `cf-bench-${label}-`)));
  const socket = `cf-bench-${label}-${process.pid}`;
  const sandbox = await createSandbox({
    root,
    socket,
    accounts: [{ name: 'A', quota: { limit: quotaLimit, used: quotaLimit, windowSeconds: 86400, turnMs: 50 } }, { name: 'B', quota: null }],
    // max ≥ 1 even for the latency runs: init trusts the pool's project dir only when it has one.
    autonomous: { min: sessions, max: Math.max(1, sessions) },
    overrides: { monitor: { pollIntervalMs: POLL_MS }, server: { listen: '127.0.0.1:0' } },
  });
  return { sandbox, root, socket };
}

function tmuxServerPid(socket: string): number {
  return Number(execFileSync('tmux', ['-L', socket, 'display-message', '-p', '#{pid}'], { encoding: 'utf8' }).trim());
}

/** (a) From the limit record being written to the LimitEvent, one signal at a time. */
async function latency(source: LimitSource): Promise<number[]> {
  const { sandbox, root, socket } = await sandboxFor(`lat-${source}`, 0, 0);
  const config = sandbox.config;
  const store = openStore(config.stateDir);
  // As in the daemon: reads over a control-mode connection attached to the trial's session.
  let trialSession: string | null = null;
  const tmux = createTmuxClient({ socket, controlMode: { sessions: () => (trialSession ? [trialSession] : []) } });
  const account = config.accounts[0];
  if (!account) throw new Error('no account');
  let resolveLimit: ((at: number) => void) | null = null;
  const monitor = new Monitor({
    config,
    store,
    tmux,
    logger: silentLogger(),
    now: () => new Date(),
    activeAccount: () => account,
    sources: new Set([source]),
    onLimit: () => resolveLimit?.(Date.now()),
    onNearLimit: () => undefined,
  });
  const control = await startControlSocket(daemonSocketPath(config), {
    logger: silentLogger(),
    onEvent: (e) => { monitor.handleControlEvent(e); },
    onRequest: () => Promise.resolve(null),
  });
  const watcher = watchTranscripts({ projectsDir: join(config.sharedDir, 'projects'), parseLine: parseTranscriptLine, onSignal: (s) => { monitor.handleTranscript(s); }, logger: silentLogger() });
  await watcher.ready;
  const loop = { polling: true };
  const poller = (async () => {
    while (loop.polling) {
      const panes = new Map((await tmux.listPanes()).map((p) => [p.sessionName, p]));
      await monitor.pollScreens(panes).catch(() => undefined);
      await sleep(POLL_MS);
    }
  })();
  const project = config.pool.autonomous.project;
  const results: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const name = `trial-${i}`;
    trialSession = name;
    const sessionId = crypto.randomUUID();
    const command = launchCommandLine({ accountHome: account.home, command: config.claude.command, args: config.claude.args, env: config.claude.env, newSessionId: sessionId });
    const { paneId } = await tmux.newSession({ name, cwd: project, command });
    monitor.sessions.launched(name, { paneId, account: 'A', cwd: project, sessionId, keepLastError: false });
    await waitForPrompt(tmux, paneId);
    store.clearExhausted('A');
    const detected = new Promise<number>((resolve) => (resolveLimit = resolve));
    await tmux.sendText(paneId, `trial ${i}`);
    const timeout = sleep(15_000).then(() => NaN);
    const at = await Promise.race([detected, timeout]);
    resolveLimit = null;
    const written = limitWrittenAt(config.sharedDir, sessionId);
    if (!Number.isNaN(at) && written !== null) results.push(at - written);
    await tmux.killSession(name);
  }
  loop.polling = false;
  await poller;
  tmux.close();
  watcher.close();
  await control.close();
  store.close();
  await endPrivateServer(socket);
  rmSync(root, { recursive: true, force: true });
  if (results.length < TRIALS) throw new Error(`latency (${source}): only ${results.length} of ${TRIALS} trials saw the limit`);
  return results;
}

async function waitForPrompt(tmux: ReturnType<typeof createTmuxClient>, paneId: string): Promise<void> {
  let screen = '';
  for (let t = 0; t < 200; t++) {
    screen = await tmux.capturePane(paneId, 10);
    if (/❯\u00a0/.test(screen)) return;
    await sleep(50);
  }
  throw new Error(`the fake Claude Code did not reach its prompt:\n${screen}`);
}

/** When the session's limit record was written: its own timestamp, in ms. */
function limitWrittenAt(sharedDir: string, sessionId: string): number | null {
  const projects = join(sharedDir, 'projects');
  for (const dir of readdirSync(projects)) {
    const file = join(projects, dir, `${sessionId}.jsonl`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const signal = parseTranscriptLine(line);
      if (signal?.type === 'limit') return signal.timestamp.getTime();
    }
  }
  return null;
}

interface CostFigure {
  sessions: number;
  daemonCpuPercent: number;
  daemonRssMb: number;
  tmuxCpuPercent: number;
  baselineCpuPercent: number;
  baselineTmuxCpuPercent: number;
}

async function measure(pids: number[], seconds: number): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  await sleep(seconds * 1000);
  return pids.map((pid, i) => (100 * (cpuSeconds(pid) - (before[i] ?? 0))) / seconds);
}

/** (b) and (c): the daemon with N idle sessions, then per-session polling of the same panes. */
async function cost(sessions: number): Promise<CostFigure> {
  const { sandbox, root, socket } = await sandboxFor(`cost-${sessions}`, sessions, 1_000_000);
  const daemon: ChildProcess = spawn(process.execPath, [join(process.cwd(), 'dist/cli/main.js'), '--config', sandbox.configFile, 'run'], { stdio: 'ignore' });
  const store = openStore(sandbox.config.stateDir);
  for (let t = 0; t < 600; t++) {
    const idle = store.listSessions().filter((s) => s.state === 'idle').length;
    if (idle >= sessions) break;
    await sleep(500);
  }
  store.close();
  await sleep(SETTLE_SECONDS * 1000);
  const tmuxPid = tmuxServerPid(socket);
  const [daemonCpu = NaN, tmuxCpu = NaN] = await measure([daemon.pid ?? 0, tmuxPid], SECONDS);
  const rss = rssMb(daemon.pid ?? 0);
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  // The usual approach in this field: one capture-pane per session, every second.
  const names = Array.from({ length: sessions }, (_, i) => `auto-${i + 1}`);
  const script = `while true; do for s in ${names.join(' ')}; do tmux -L ${socket} capture-pane -p -t "$s" > /dev/null; done; sleep 1; done`;
  const baseline = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
  await sleep(2000);
  const baselinePids = () => [baseline.pid ?? 0];
  const beforeChildren = childrenCpuSeconds(baseline.pid ?? 0);
  const [baselineOwn = NaN, baselineTmux = NaN] = await measure([...baselinePids(), tmuxPid], SECONDS);
  const childrenPercent = (100 * (childrenCpuSeconds(baseline.pid ?? 0) - beforeChildren)) / SECONDS;
  process.kill(-(baseline.pid ?? 0), 'SIGKILL');
  await endPrivateServer(socket);
  rmSync(root, { recursive: true, force: true });
  return { sessions, daemonCpuPercent: daemonCpu, daemonRssMb: rss, tmuxCpuPercent: tmuxCpu, baselineCpuPercent: baselineOwn + childrenPercent, baselineTmuxCpuPercent: baselineTmux };
}

/**
 * The hook relay as Claude Code runs it (`claude-failover hook … StopFailure`, JSON on
 * stdin): from spawning the process to its exit, with a daemon listening and with none.
 */
async function hookRelay(daemonUp: boolean): Promise<number[]> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cf-bench-relay-')));
  const socketPath = join(root, 'daemon.sock');
  let received = 0;
  const control = daemonUp ? await startControlSocket(socketPath, { logger: silentLogger(), onEvent: () => { received++; }, onRequest: () => Promise.resolve(null) }) : null;
  const payload = JSON.stringify({ session_id: crypto.randomUUID(), transcript_path: join(root, 'x.jsonl'), cwd: root, hook_event_name: 'StopFailure', error: 'rate_limit' });
  const times: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [join(process.cwd(), 'dist/cli/main.js'), 'hook', '--socket', socketPath, 'StopFailure'], { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, TMUX_PANE: '%1' } });
      child.once('error', reject);
      child.once('exit', () => { resolve(); });
      child.stdin.end(payload);
    });
    times.push(performance.now() - started);
  }
  await control?.close();
  rmSync(root, { recursive: true, force: true });
  if (daemonUp && received < TRIALS) throw new Error(`hook relay: the daemon received ${received} of ${TRIALS} events`);
  return times;
}

const round = (n: number) => Math.round(n * 100) / 100;

type FakeResults = Record<string, unknown>;

/** The fake Claude Code figures: detection latency per signal, the hook relay, the idle cost. */
async function fakeFigures(): Promise<FakeResults> {
  const latencyResults: Record<string, { trials: number; p50Ms: number; p95Ms: number }> = {};
  for (const source of ['hook', 'transcript', 'screen'] as const) {
    say(`latency: ${source} (${TRIALS} trials)…`);
    const values = await latency(source);
    latencyResults[source] = { trials: values.length, p50Ms: round(percentile(values, 50)), p95Ms: round(percentile(values, 95)) };
    say(`  p50 ${latencyResults[source].p50Ms} ms, p95 ${latencyResults[source].p95Ms} ms`);
  }
  const relayResults: Record<string, { trials: number; p50Ms: number; p95Ms: number; maxMs: number }> = {};
  for (const up of [true, false]) {
    const label = up ? 'daemon up' : 'daemon down';
    say(`hook relay, ${label} (${TRIALS} runs)…`);
    const values = await hookRelay(up);
    relayResults[label] = { trials: values.length, p50Ms: round(percentile(values, 50)), p95Ms: round(percentile(values, 95)), maxMs: round(Math.max(...values)) };
    say(`  p50 ${relayResults[label].p50Ms} ms, p95 ${relayResults[label].p95Ms} ms`);
  }
  const costs: CostFigure[] = [];
  for (const n of SIZES) {
    say(`cost: ${n} idle sessions, ${SECONDS} s each for the daemon and the baseline…`);
    const figure = await cost(n);
    costs.push(figure);
    say(`  daemon ${round(figure.daemonCpuPercent)}% CPU, ${round(figure.daemonRssMb)} MB; baseline ${round(figure.baselineCpuPercent)}% CPU`);
  }
  return { date: new Date().toISOString(), node: process.version, trials: TRIALS, seconds: SECONDS, pollIntervalMs: POLL_MS, latency: latencyResults, hookRelay: relayResults, cost: costs.map((c) => ({ ...c, ratio: round((c.baselineCpuPercent + c.baselineTmuxCpuPercent) / Math.max(0.01, c.daemonCpuPercent + c.tmuxCpuPercent)) })) };
}

interface FakeShape {
  date?: string;
  node?: string;
  seconds?: number;
  latency?: Record<string, { trials: number; p50Ms: number; p95Ms: number }>;
  hookRelay?: Record<string, { trials: number; p50Ms: number; p95Ms: number; maxMs: number }>;
  cost?: (CostFigure & { ratio: number })[];
}

function renderFake(result: FakeShape): string[] {
  if (!result.latency || !result.hookRelay || !result.cost) return ['_No fake Claude Code figures yet: run `npm run bench` (or `BENCH_ONLY=fake`)._', ''];
  return [
    `Fake Claude Code figures: ${result.date ?? '?'}, Node ${result.node ?? '?'}.`,
    '',
    '## Detection latency (limit record written → LimitEvent)',
    '',
    '| signal | trials | p50 ms | p95 ms |',
    '| --- | --- | --- | --- |',
    ...Object.entries(result.latency).map(([s, r]) => `| ${s} | ${r.trials} | ${r.p50Ms} | ${r.p95Ms} |`),
    '',
    '## Hook relay (process spawned → exited; Claude Code waits for it)',
    '',
    '| | runs | p50 ms | p95 ms | max ms |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(result.hookRelay).map(([s, r]) => `| ${s} | ${r.trials} | ${r.p50Ms} | ${r.p95Ms} | ${r.maxMs} |`),
    '',
    `## Cost with idle sessions (${String(result.seconds ?? '?')} s each, % of one core)`,
    '',
    '| sessions | daemon CPU | daemon RSS MB | tmux server CPU (daemon) | per-session polling CPU | tmux server CPU (polling) | polling ÷ daemon |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...result.cost.map((c) => `| ${c.sessions} | ${round(c.daemonCpuPercent)} | ${round(c.daemonRssMb)} | ${round(c.tmuxCpuPercent)} | ${round(c.baselineCpuPercent)} | ${round(c.baselineTmuxCpuPercent)} | ${c.ratio}× |`),
    '',
  ];
}

/** The results so far: a partial run (BENCH_ONLY) keeps the other part's figures. */
function previousResults(): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync('bench/results/latest.json', 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY ?? 'all';
  if (!['all', 'fake', 'real-claude', 'tasks', 'fleet'].includes(only)) throw new Error(`BENCH_ONLY is all, fake, real-claude, tasks or fleet, not ${JSON.stringify(only)}`);
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const previous = previousResults();
  const { realClaude: previousReal, tasks: previousTasks, fleet: previousFleet, ...previousFake } = previous;
  const fake = only === 'real-claude' || only === 'tasks' || only === 'fleet' ? previousFake : await fakeFigures();
  const tasks = only === 'all' || only === 'tasks' ? await taskFigures(say) : (previousTasks as TaskFigures | undefined);
  if (only === 'all' || only === 'fleet') say('fleet: three hosts, a limit on one → the others off that account…');
  const fleet = only === 'all' || only === 'fleet' ? await fleetFigures(say) : (previousFleet as FleetFigures | undefined);
  if (only === 'all' || only === 'real-claude') say(`real Claude Code ${REAL_VERSION}: limit → continuation, hook delivery, hook CPU…`);
  const real = only === 'all' || only === 'real-claude' ? realClaudeBench(say) : (previousReal as RealClaudeSection | undefined);
  const result = { ...fake, ...(tasks ? { tasks } : {}), ...(fleet ? { fleet } : {}), ...(real ? { realClaude: real } : {}) };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', JSON.stringify(result, null, 2) + '\n');
  const fakeShape: FakeShape = fake;
  const md = ['# Benchmark results', '', ...renderFake(fakeShape), ...renderTasks(tasks), ...renderFleet(fleet), ...(real ? renderRealClaude(real) : [])].join('\n');
  writeFileSync('bench/results/latest.md', md);
  say(md);
}

await main();
