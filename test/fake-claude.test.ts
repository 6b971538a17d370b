import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { patchFakeQuota } from '../src/demo/sandbox.js';
import { killPrivateServer, privateSocketName } from './helpers/private-tmux.js';
import { makeTempDir, removeTempDir } from './helpers/temp-dir.js';
import { waitFor } from './helpers/wait-for.js';

const CLAUDE = fileURLToPath(new URL('./fixtures/fake-claude/claude', import.meta.url));

interface Rec {
  type?: string;
  sessionId?: string;
  parentUuid?: string | null;
  uuid?: string;
  cwd?: string;
  content?: string;
  error?: string;
  isApiErrorMessage?: boolean;
  apiErrorStatus?: number;
  apiError?: string;
  quotaLimits?: { status: string; resetsAt: number; rateLimitType: string; isUsingOverage: boolean };
  message?: { role?: string; model?: string; content?: unknown };
}

interface Quota {
  limit: number;
  used: number;
  windowSeconds: number;
  resetsAt: number | null;
  kind: string;
  turnMs: number;
  warnPercent?: number;
  timeZone?: string;
  crashOnStart?: string;
  autoContinue?: boolean;
  bypassDialog?: boolean;
}

let socket: string;
let serverUp = false;
let root: string;
let home: string;
let acctA: string;
let acctB: string;
let proj: string;

/** The environment for every child: a temp HOME, nothing inherited from a surrounding tmux or account. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  delete env.CLAUDE_CONFIG_DIR;
  delete env.IS_SANDBOX;
  return { ...env, HOME: home, ...extra };
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 5000, env: baseEnv() });
}

function seed(dir: string, o: { onboarding?: boolean; trust?: boolean; creds?: boolean; quota?: Partial<Quota> } = {}): void {
  mkdirSync(dir, { recursive: true });
  const cj: Record<string, unknown> = { projects: o.trust === false ? {} : { [proj]: { hasTrustDialogAccepted: true } } };
  if (o.onboarding !== false) cj.hasCompletedOnboarding = true;
  writeFileSync(join(dir, '.claude.json'), JSON.stringify(cj));
  if (o.creds !== false) {
    writeFileSync(
      join(dir, '.credentials.json'),
      JSON.stringify({ claudeAiOauth: { accessToken: 'sk-ant-oat01-fake', refreshToken: 'sk-ant-ort01-fake', expiresAt: Date.now() + 1e10 } }),
      { mode: 0o600 },
    );
  }
  if (o.quota) writeQuota(dir, o.quota);
}

function writeQuota(dir: string, q: Partial<Quota>): void {
  const full: Quota = { limit: 100, used: 0, windowSeconds: 3600, resetsAt: null, kind: 'five_hour', turnMs: 50, warnPercent: 90, timeZone: 'UTC', ...q };
  writeFileSync(join(dir, 'fake-quota.json'), JSON.stringify(full));
}

function readQuota(dir: string): Quota {
  return JSON.parse(readFileSync(join(dir, 'fake-quota.json'), 'utf8')) as Quota;
}

function writeSettings(dir: string, settings: unknown): void {
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
}

/** Starts the fake in a new tmux session; the pane stays after exit so its output can be read. */
function start(name: string, acct: string, args: string[] = [], env: Record<string, string> = {}, reportExit = false): void {
  const envArgs = Object.entries({ HOME: home, CLAUDE_CONFIG_DIR: acct, IS_SANDBOX: '1', ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  if (!serverUp) {
    // A placeholder session keeps the server up and turns remain-on-exit on before any fake starts.
    tmux('new-session', '-d', '-s', 'keep', 'cat', ';', 'set-option', '-g', 'remain-on-exit', 'on');
    serverUp = true;
  }
  const argv = [CLAUDE, '--dangerously-skip-permissions', ...args];
  // reportExit: a shell prints the fake's exit code when it ends (tmux's #{pane_dead_status} is not always recorded).
  const command = reportExit ? ['sh', '-c', '"$0" "$@"; echo "exit=$?"', ...argv] : argv;
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', '-c', proj, ...envArgs, ...command);
}

function screen(name: string): string {
  return tmux('capture-pane', '-p', '-t', name);
}

/** The visible screen plus scrollback: a dying pane's last lines can be scrolled out of view. */
function screenWithHistory(name: string): string {
  return tmux('capture-pane', '-p', '-S', '-200', '-t', name);
}

async function waitScreen(name: string, text: string | RegExp, timeoutMs = 15_000): Promise<string> {
  return waitFor(
    () => {
      const s = screen(name);
      return (typeof text === 'string' ? s.includes(text) : text.test(s)) && s;
    },
    { timeoutMs, what: `screen of ${name} to show ${String(text)}` },
  );
}

function sendLine(name: string, text: string): void {
  tmux('send-keys', '-t', name, '-l', text);
  tmux('send-keys', '-t', name, 'Enter');
}

/** A person's pause between keys: the fake swallows a Ctrl-C within 100 ms of the previous key. */
const KEY_PAUSE_MS = 150;

/**
 * Exits the way a person does: Ctrl-C, the fake shows it took it, a pause, Ctrl-C. The pause
 * is the behaviour under test (two Ctrl-C must be apart), not a wait for something to happen.
 */
async function exitWithCtrlC(name: string): Promise<void> {
  tmux('send-keys', '-t', name, 'C-c');
  await waitScreen(name, 'Press Ctrl-C again to exit');
  await new Promise((resolve) => setTimeout(resolve, KEY_PAUSE_MS));
  tmux('send-keys', '-t', name, 'C-c');
}

/** `#{pane_dead}`: tmux records no exit status for a process that dies within moments of starting. */
function paneDead(name: string): boolean {
  return tmux('display-message', '-p', '-t', name, '#{pane_dead}').trim() === '1';
}

function encoded(path: string): string {
  return path.replace(/[^A-Za-z0-9]/g, '-');
}

function transcriptFile(acct: string, id: string): string {
  return join(acct, 'projects', encoded(proj), `${id}.jsonl`);
}

function records(acct: string, id: string): Rec[] {
  if (!existsSync(transcriptFile(acct, id))) return [];
  return readFileSync(transcriptFile(acct, id), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

interface SessionFile {
  pid: number;
  sessionId: string;
  cwd: string;
  status: string;
  tmux?: string;
  kind: string;
}

function sessionFiles(acct: string): SessionFile[] {
  const dir = join(acct, 'sessions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SessionFile);
}

async function sessionOf(acct: string, name: string): Promise<SessionFile> {
  const target = tmux('display-message', '-p', '-t', name, '#{session_name}:#{window_id}.#{pane_id}').trim();
  return waitFor(() => sessionFiles(acct).find((s) => s.tmux === target), { what: `sessions file of ${name}` });
}

function assistantTexts(recs: Rec[]): string[] {
  return recs
    .filter((r) => r.type === 'assistant')
    .map((r) => (r.message?.content as { text: string }[])[0]?.text ?? '');
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(CLAUDE, args, { cwd: proj, env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeEach(async () => {
  root = await makeTempDir('fake-claude');
  home = join(root, 'home');
  acctA = join(root, 'acct-a');
  acctB = join(root, 'acct-b');
  proj = join(root, 'my project.dir');
  mkdirSync(home, { recursive: true });
  mkdirSync(proj, { recursive: true });
  socket = privateSocketName('fake-claude');
  serverUp = false;
});

afterEach(async () => {
  await killPrivateServer(socket);
  await removeTempDir(root);
});

describe('fake claude: command line', () => {
  it('prints its version and refuses unknown options', async () => {
    seed(acctA);
    const v = await run(['--version'], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(v).toMatchObject({ code: 0, stdout: '2.1.330 (Claude Code)\n' });
    const bad = await run(['--x'], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error: unknown option '--x'");
  });

  it('-p answers one prompt on stdout, and prints the banner with exit 1 at the limit', async () => {
    seed(acctA, { quota: { limit: 1, used: 0 } });
    const env = baseEnv({ CLAUDE_CONFIG_DIR: acctA });
    const ok = await run(['-p', 'say hi'], env);
    expect(ok).toMatchObject({ code: 0, stdout: 'Step 1 of 1 done.\n' });
    const limited = await run(['-p', 'say hi again'], env);
    expect(limited.code).toBe(1);
    expect(limited.stdout).toMatch(/^You've hit your 5-hour limit · resets \d{1,2}(:\d\d)?(am|pm) \(UTC\)\n$/);
  });

  it('refuses --dangerously-skip-permissions as root without IS_SANDBOX', async () => {
    if (process.getuid?.() !== 0) return; // the refusal only applies to root
    seed(acctA);
    const r = await run(['--dangerously-skip-permissions'], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain('--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons');
  });

  it('exits at start when onboarding is missing, or the control file asks for a crash', async () => {
    seed(acctA, { onboarding: false });
    const r = await run([], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Unable to connect to Anthropic services');
    seed(acctB, { quota: { crashOnStart: 'boom: simulated crash' } });
    const c = await run([], baseEnv({ CLAUDE_CONFIG_DIR: acctB }));
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('boom: simulated crash');
    const e = await run(['-p', 'hi'], baseEnv({ CLAUDE_CONFIG_DIR: acctA, FAKE_CLAUDE_CRASH_ON_START: 'crash from the environment' }));
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('crash from the environment');
  });

  it('uses $HOME/.claude and $HOME/.claude.json without CLAUDE_CONFIG_DIR', async () => {
    const defaultHome = join(home, '.claude');
    seed(defaultHome);
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true }));
    const r = await run(['-p', 'hello'], baseEnv());
    expect(r.code).toBe(0);
    expect(readdirSync(join(defaultHome, 'projects', encoded(proj)))).toHaveLength(1);
  });

  it('refuses --resume of a transcript its config home cannot see', async () => {
    seed(acctA);
    seed(acctB);
    const first = await run(['-p', 'remember me', '--session-id', '11111111-2222-4333-8444-555555555555'], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(first.code).toBe(0);
    expect(records(acctA, '11111111-2222-4333-8444-555555555555').length).toBe(2);
    const r = await run(['--resume', '11111111-2222-4333-8444-555555555555'], baseEnv({ CLAUDE_CONFIG_DIR: acctB, IS_SANDBOX: '1' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No conversation found with session ID: 11111111-2222-4333-8444-555555555555');
    expect(existsSync(join(acctB, 'projects'))).toBe(false);

    // Under the home that has it, -p --resume appends to the same file with the same id.
    const again = await run(['-p', '--resume', '11111111-2222-4333-8444-555555555555', 'and again'], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(again.code).toBe(0);
    const recs = records(acctA, '11111111-2222-4333-8444-555555555555');
    expect(recs.map((x) => x.type)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(recs.every((x) => x.sessionId === '11111111-2222-4333-8444-555555555555')).toBe(true);
    expect(recs[2]?.parentUuid).toBe(recs[1]?.uuid);

    // A new session cannot take an id that already has a transcript.
    const taken = await run(['-p', '--session-id', '11111111-2222-4333-8444-555555555555', 'x'], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('is already in use');
  });

  it('concurrent -p runs of one account count every turn in the shared quota file', async () => {
    seed(acctA, { quota: { limit: 100_000, turnMs: 0 } });
    const env = baseEnv({ CLAUDE_CONFIG_DIR: acctA });
    const results = await Promise.all(Array.from({ length: 6 }, (_, k) => run(['-p', `job ${k} [turns=15]`], env)));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(readQuota(acctA).used).toBe(90);
    expect(existsSync(join(acctA, 'fake-quota.json.lock'))).toBe(false);
  });

  it('a quota changed while sessions are taking turns (patchFakeQuota) keeps the change and every turn', async () => {
    seed(acctA, { quota: { limit: 100_000, turnMs: 0 } });
    const file = join(acctA, 'fake-quota.json');
    const env = baseEnv({ CLAUDE_CONFIG_DIR: acctA });
    const state = { running: true };
    const runs = Promise.all(Array.from({ length: 6 }, (_, k) => run(['-p', `job ${k} [turns=60]`], env))).finally(() => {
      state.running = false;
    });
    // Change another field over and over while the six write `used`: a change made outside
    // their lock would put back a stale `used` (turns lost) or be overwritten by theirs.
    let patches = 0;
    while (state.running) {
      patches++;
      await patchFakeQuota(file, { warnPercent: patches });
      expect(readQuota(acctA).warnPercent).toBe(patches);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect((await runs).map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(readQuota(acctA).used).toBe(360);
    expect(readQuota(acctA).warnPercent).toBe(patches);
  });

  it('-p without a login answers Invalid API key with exit 1', async () => {
    seed(acctA, { creds: false });
    const r = await run(['-p', 'hello'], baseEnv({ CLAUDE_CONFIG_DIR: acctA }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Invalid API key · Please run /login\n');
  });
});

describe('fake claude in tmux', () => {
  it('shows the idle prompt box and writes real-shaped records at the encoded path on a prompt', async () => {
    seed(acctA, { quota: { limit: 10 } });
    start('s1', acctA);
    const s = await waitScreen('s1', '⏵⏵ bypass permissions on (shift+tab to cycle)');
    expect(s).toContain('❯\u00a0');
    expect(s).toContain('─'.repeat(120));
    const sf = await sessionOf(acctA, 's1');
    expect(sf).toMatchObject({ status: 'idle', kind: 'interactive', cwd: proj });
    expect(existsSync(transcriptFile(acctA, sf.sessionId))).toBe(false); // created on the first prompt

    sendLine('s1', 'write a haiku');
    await waitScreen('s1', '● Step 1 of 1 done.');
    const recs = await waitFor(() => records(acctA, sf.sessionId).length >= 2 && records(acctA, sf.sessionId));
    const [user, assistant] = recs;
    expect(user).toMatchObject({ type: 'user', sessionId: sf.sessionId, cwd: proj, parentUuid: null, message: { role: 'user', content: 'write a haiku' } });
    expect(assistant).toMatchObject({ type: 'assistant', sessionId: sf.sessionId, parentUuid: user?.uuid, message: { model: 'claude-sonnet-4-5', role: 'assistant' } });
    expect(screen('s1')).toContain('❯ write a haiku');
  });

  it('shows the busy line during a multi-turn task and goes idle after it', async () => {
    seed(acctA, { quota: { limit: 100, turnMs: 300 } });
    start('busy', acctA);
    await waitScreen('busy', '❯\u00a0');
    const sf = await sessionOf(acctA, 'busy');
    sendLine('busy', 'refactor [turns=4]');
    const s = await waitScreen('busy', /✽ Booping… \(\d+s · esc to interrupt\)/);
    expect(s).toContain('  ⏵⏵ bypass permissions on (shift+tab to cycle) · esc to interrupt');
    await waitFor(() => sessionFiles(acctA).find((x) => x.sessionId === sf.sessionId)?.status === 'busy', { what: 'status busy' });
    await waitScreen('busy', '● Step 4 of 4 done.');
    await waitFor(() => sessionFiles(acctA).find((x) => x.sessionId === sf.sessionId)?.status === 'idle', { what: 'status idle' });
    expect(assistantTexts(records(acctA, sf.sessionId))).toEqual(['Step 1 of 4 done.', 'Step 2 of 4 done.', 'Step 3 of 4 done.', 'Step 4 of 4 done.']);
  });

  it('Escape interrupts a busy turn', async () => {
    seed(acctA, { quota: { limit: 100, turnMs: 2000 } });
    start('esc', acctA);
    await waitScreen('esc', '❯\u00a0');
    sendLine('esc', 'long job [turns=50]');
    await waitScreen('esc', 'esc to interrupt');
    tmux('send-keys', '-t', 'esc', 'Escape');
    await waitScreen('esc', '  ⎿  Interrupted by user');
    await waitScreen('esc', '⏵⏵ bypass permissions on');
  });

  it('at the limit: banner on screen, limit record with resetsAt, StopFailure hook with rate_limit and no Stop', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3 * 3600;
    seed(acctA, { quota: { limit: 2, used: 0, resetsAt } });
    const out = join(root, 'hooks');
    mkdirSync(out);
    writeSettings(acctA, {
      hooks: {
        StopFailure: [{ matcher: '', hooks: [{ type: 'command', command: `cat > '${out}/stopfailure.json'` }] }],
        Stop: [{ hooks: [{ type: 'command', command: `cat > '${out}/stop.json'` }] }],
      },
    });
    start('lim', acctA);
    await waitScreen('lim', '❯\u00a0');
    const sf = await sessionOf(acctA, 'lim');
    sendLine('lim', 'big task [turns=3]');
    const s = await waitScreen('lim', /You've hit your 5-hour limit · resets \d{1,2}(:\d\d)?(am|pm) \(UTC\)/);
    expect(s).toMatch(/● Usage limit reached · set to continue automatically at \d{1,2}(:\d\d)?(am|pm)/);
    await waitScreen('lim', '⚠ Usage limit reached · limit resets');
    const hook = await waitFor(() => existsSync(join(out, 'stopfailure.json')) && (JSON.parse(readFileSync(join(out, 'stopfailure.json'), 'utf8')) as Record<string, unknown>), {
      what: 'StopFailure hook',
    });
    expect(hook).toMatchObject({ hook_event_name: 'StopFailure', error: 'rate_limit', error_details: 'usage_limit_reached', session_id: sf.sessionId, transcript_path: transcriptFile(acctA, sf.sessionId), cwd: proj });
    expect(existsSync(join(out, 'stop.json'))).toBe(false);

    const recs = records(acctA, sf.sessionId);
    const limit = recs.find((r) => r.isApiErrorMessage);
    expect(limit).toMatchObject({
      type: 'assistant',
      error: 'rate_limit',
      apiErrorStatus: 429,
      apiError: 'usage_limit_reached',
      message: { model: '<synthetic>' },
      quotaLimits: { status: 'rejected', resetsAt, rateLimitType: 'five_hour', isUsingOverage: false },
    });
    expect(assistantTexts([limit as Rec])[0]).toMatch(/^You've hit your 5-hour limit · resets/);
    expect(recs[recs.length - 1]).toMatchObject({ type: 'system' });
    expect(recs[recs.length - 1]?.content).toMatch(/^Usage limit reached · set to continue automatically at /);
    expect(assistantTexts(recs).slice(0, 2)).toEqual(['Step 1 of 3 done.', 'Step 2 of 3 done.']);
    expect(readQuota(acctA).used).toBe(2);
    // The session stays at its prompt.
    expect(paneDead('lim')).toBe(false);
  });

  it('shows the weekly banner with a date when the reset is days away', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3 * 86400;
    seed(acctA, { quota: { limit: 0, resetsAt, kind: 'seven_day', windowSeconds: 7 * 86400 } });
    start('wk', acctA);
    await waitScreen('wk', '❯\u00a0');
    sendLine('wk', 'anything');
    await waitScreen('wk', /You've hit your weekly limit · resets [A-Z][a-z]{2} \d{1,2}, \d{1,2}(:\d\d)?(am|pm) \(UTC\)/);
  });

  it('two sessions of one account share the quota file without losing an increment', async () => {
    seed(acctA, { quota: { limit: 1000, turnMs: 0 } });
    start('a1', acctA);
    start('a2', acctA);
    await waitScreen('a1', '❯\u00a0');
    await waitScreen('a2', '❯\u00a0');
    sendLine('a1', 'count [turns=25]');
    sendLine('a2', 'count [turns=25]');
    await waitScreen('a1', '● Step 25 of 25 done.', 30_000);
    await waitScreen('a2', '● Step 25 of 25 done.', 30_000);
    expect(readQuota(acctA).used).toBe(50);
  });

  it('--resume appends to the same transcript with the same id; exit prints the resume hint', async () => {
    seed(acctA);
    start('r1', acctA);
    await waitScreen('r1', '❯\u00a0');
    const sf = await sessionOf(acctA, 'r1');
    sendLine('r1', 'first prompt');
    await waitScreen('r1', '● Step 1 of 1 done.');
    sendLine('r1', '/exit');
    await waitScreen('r1', `claude --resume ${sf.sessionId}`);
    await waitFor(() => screenWithHistory('r1').includes('Resume this session with:'), { what: 'resume hint' });
    await waitFor(() => paneDead('r1'), { what: 'r1 exited' });
    expect(sessionFiles(acctA)).toEqual([]);

    start('r2', acctA, ['--resume', sf.sessionId]);
    await waitScreen('r2', '❯ first prompt'); // the conversation so far
    const sf2 = await sessionOf(acctA, 'r2');
    expect(sf2.sessionId).toBe(sf.sessionId);
    sendLine('r2', 'second prompt');
    await waitFor(() => records(acctA, sf.sessionId).length === 4, { what: 'four records' });
    const recs = records(acctA, sf.sessionId);
    expect(recs.every((r) => r.sessionId === sf.sessionId)).toBe(true);
    expect(recs.filter((r) => r.type === 'user').map((r) => r.message?.content)).toEqual(['first prompt', 'second prompt']);
    expect(recs[2]?.parentUuid).toBe(recs[1]?.uuid);
  });

  it('--resume under another home is refused with exit 1 and the pane keeps the message', async () => {
    seed(acctA);
    seed(acctB);
    start('x', acctB, ['--resume', '99999999-2222-4333-8444-555555555555'], {}, true);
    const exit = await waitFor(() => /exit=(\d+)/.exec(screenWithHistory('x'))?.[1], { what: 'exit code' });
    expect(exit).toBe('1');
    expect(screenWithHistory('x')).toContain('No conversation found with session ID: 99999999-2222-4333-8444-555555555555');
  });

  it('shows the trust dialog; 1 + Enter accepts and records trust, Enter alone exits 1', async () => {
    seed(acctA, { trust: false });
    start('t1', acctA);
    const s = await waitScreen('t1', 'Quick safety check: Is this a project you created or one you trust?');
    expect(s).toContain('Accessing workspace:');
    expect(s).toContain(proj);
    // Like the real one: "No, exit" is selected until the person picks 1.
    expect(s).toContain('   1. Yes, I trust this folder');
    expect(s).toContain(' ❯ 2. No, exit');
    tmux('send-keys', '-t', 't1', '1');
    await waitScreen('t1', ' ❯ 1. Yes, I trust this folder');
    tmux('send-keys', '-t', 't1', 'Enter');
    await waitScreen('t1', '⏵⏵ bypass permissions on');
    const cj = JSON.parse(readFileSync(join(acctA, '.claude.json'), 'utf8')) as { projects: Record<string, { hasTrustDialogAccepted?: boolean }> };
    expect(cj.projects[proj]?.hasTrustDialogAccepted).toBe(true);

    seed(acctB, { trust: false });
    start('t2', acctB, [], {}, true);
    await waitScreen('t2', 'Quick safety check');
    tmux('send-keys', '-t', 't2', 'Enter');
    const exit = await waitFor(() => /exit=(\d+)/.exec(screenWithHistory('t2'))?.[1], { what: 't2 exit code' });
    expect(exit).toBe('1');
    expect(JSON.parse(readFileSync(join(acctB, '.claude.json'), 'utf8'))).toMatchObject({ projects: {} });
  });

  it('without credentials shows Not logged in and answers Invalid API key', async () => {
    seed(acctA, { creds: false });
    start('nl', acctA);
    await waitScreen('nl', 'Not logged in · Please run /login');
    sendLine('nl', 'hello');
    await waitScreen('nl', 'Invalid API key · Please run /login');
  });

  it('runs SessionStart, UserPromptSubmit and Stop hooks with real-shaped JSON and TMUX_PANE', async () => {
    seed(acctA);
    const out = join(root, 'hooks');
    mkdirSync(out);
    const hook = (event: string) => [{ matcher: '', hooks: [{ type: 'command', command: `cat > '${out}/${event}.json'; printf '%s' "$TMUX_PANE" > '${out}/${event}.pane'` }] }];
    writeSettings(acctA, { hooks: { SessionStart: hook('SessionStart'), UserPromptSubmit: hook('UserPromptSubmit'), Stop: hook('Stop') } });
    start('h', acctA);
    const paneId = tmux('display-message', '-p', '-t', 'h', '#{pane_id}').trim();
    const read = (event: string) =>
      waitFor(() => existsSync(join(out, `${event}.pane`)) && (JSON.parse(readFileSync(join(out, `${event}.json`), 'utf8')) as Record<string, unknown>), {
        what: `${event} hook`,
      });
    const started = await read('SessionStart');
    const sf = await sessionOf(acctA, 'h');
    const common = { session_id: sf.sessionId, transcript_path: transcriptFile(acctA, sf.sessionId), cwd: proj };
    expect(started).toMatchObject({ ...common, hook_event_name: 'SessionStart', source: 'startup' });
    sendLine('h', 'do it');
    expect(await read('UserPromptSubmit')).toMatchObject({ ...common, hook_event_name: 'UserPromptSubmit', prompt: 'do it' });
    expect(await read('Stop')).toMatchObject({ ...common, hook_event_name: 'Stop', stop_hook_active: false });
    for (const e of ['SessionStart', 'UserPromptSubmit', 'Stop']) expect(readFileSync(join(out, `${e}.pane`), 'utf8')).toBe(paneId);

    sendLine('h', '/clear');
    const cleared = await waitFor(() => {
      const j = JSON.parse(readFileSync(join(out, 'SessionStart.json'), 'utf8')) as Record<string, unknown>;
      return j.source === 'clear' && j;
    });
    expect(cleared.session_id).not.toBe(sf.sessionId);
    await waitFor(() => sessionFiles(acctA)[0]?.sessionId === cleared.session_id, { what: 'sessions file after /clear' });
  });

  it('feeds the statusline rate_limits from the quota file and shows its output', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    seed(acctA, { quota: { limit: 5, used: 0, resetsAt } });
    const out = join(root, 'status.json');
    writeSettings(acctA, { statusLine: { type: 'command', command: `cat > '${out}'; echo STATUS-LINE-OK` } });
    start('sl', acctA);
    await waitScreen('sl', 'STATUS-LINE-OK');
    const sf = await sessionOf(acctA, 'sl');
    sendLine('sl', 'one');
    const j = await waitFor(() => {
      const v = JSON.parse(readFileSync(out, 'utf8')) as { rate_limits?: { five_hour?: { used_percentage: number; resets_at: number } } };
      return v.rate_limits?.five_hour?.used_percentage === 20 && v;
    });
    expect(j).toMatchObject({ session_id: sf.sessionId, transcript_path: transcriptFile(acctA, sf.sessionId), cwd: proj, version: '2.1.330', workspace: { current_dir: proj } });
    expect(j.rate_limits?.five_hour?.resets_at).toBe(resetsAt);
    const lines = screen('sl').trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe('STATUS-LINE-OK');
  });

  it('--session-id names the interactive session: sessions/<pid>.json, the transcript file and the resume hint', async () => {
    const id = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    seed(acctA);
    start('sid', acctA, ['--session-id', id]);
    await waitScreen('sid', '❯\u00a0');
    const sf = await sessionOf(acctA, 'sid');
    const pid = Number(tmux('display-message', '-p', '-t', 'sid', '#{pane_pid}').trim());
    expect(sf).toMatchObject({ pid, sessionId: id, kind: 'interactive' });
    expect(JSON.parse(readFileSync(join(acctA, 'sessions', `${pid}.json`), 'utf8'))).toMatchObject({ sessionId: id });
    sendLine('sid', 'hello');
    await waitScreen('sid', '● Step 1 of 1 done.');
    const recs = await waitFor(() => records(acctA, id).length >= 2 && records(acctA, id), { what: `transcript ${id}.jsonl` });
    expect(recs.every((r) => r.sessionId === id)).toBe(true);
    expect(readdirSync(join(acctA, 'projects', encoded(proj)))).toEqual([`${id}.jsonl`]);
    await exitWithCtrlC('sid');
    await waitScreen('sid', `claude --resume ${id}`);
  });

  it('keeps sessions/<pid>.json while running and removes it on exit (Ctrl-C, a pause, Ctrl-C)', async () => {
    seed(acctA);
    start('pf', acctA);
    const sf = await sessionOf(acctA, 'pf');
    const pid = Number(tmux('display-message', '-p', '-t', 'pf', '#{pane_pid}').trim());
    expect(sf.pid).toBe(pid);
    expect(existsSync(join(acctA, 'sessions', `${pid}.json`))).toBe(true);
    await exitWithCtrlC('pf');
    await waitScreen('pf', `claude --resume ${sf.sessionId}`);
    await waitFor(() => !existsSync(join(acctA, 'sessions', `${pid}.json`)), { what: 'sessions file removed' });
  });

  it('shows the non-blocking warning past warnPercent and keeps working up to the limit', async () => {
    seed(acctA, { quota: { limit: 10, used: 8, warnPercent: 90 } });
    start('warn', acctA);
    await waitScreen('warn', '❯\u00a0');
    sendLine('warn', 'one');
    await waitScreen('warn', /You've used 90% of your 5-hour limit · resets \d{1,2}(:\d\d)?(am|pm) \(UTC\) · \/upgrade to keep using Claude Code/);
    const sf = await sessionOf(acctA, 'warn');
    await waitFor(() => sessionFiles(acctA).find((x) => x.sessionId === sf.sessionId)?.status === 'idle', { what: 'idle after the warning' });
    expect(screen('warn')).toContain('⏵⏵ bypass permissions on (shift+tab to cycle)');
    sendLine('warn', 'two');
    await waitFor(() => assistantTexts(records(acctA, sf.sessionId)).length === 2, { what: 'second answer' });
    sendLine('warn', 'three');
    await waitScreen('warn', "You've hit your 5-hour limit");
    expect(readQuota(acctA).used).toBe(10);
  });

  it('a passed reset empties the window, and autoContinue sends the continuation prompt by itself', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 4;
    seed(acctA, { quota: { limit: 1, used: 1, resetsAt, windowSeconds: 3600, autoContinue: true } });
    start('ac', acctA);
    await waitScreen('ac', '❯\u00a0');
    const sf = await sessionOf(acctA, 'ac');
    sendLine('ac', 'work [turns=1]');
    await waitScreen('ac', "You've hit your 5-hour limit");
    await waitScreen('ac', /Continuing automatically at \d{1,2}(:\d\d)?(am|pm) · Esc to cancel/);
    // Once the reset passes, the session continues on its own.
    const recs = await waitFor(() => {
      const r = records(acctA, sf.sessionId);
      return r.filter((x) => x.type === 'assistant' && !x.isApiErrorMessage).length === 1 && r;
    }, { what: 'the continued answer' });
    const prompts = recs.filter((x) => x.type === 'user').map((x) => x.message?.content);
    expect(prompts[1]).toMatch(/^Your claude.ai usage limit has reset\. Continue the task/);
    const q = readQuota(acctA);
    expect(q.used).toBe(1);
    expect(q.resetsAt).toBe(resetsAt + 3600);
  });

  it('Esc cancels the automatic continue', async () => {
    seed(acctA, { quota: { limit: 0, resetsAt: Math.floor(Date.now() / 1000) + 3600, autoContinue: true } });
    start('acx', acctA);
    await waitScreen('acx', '❯\u00a0');
    sendLine('acx', 'work');
    await waitScreen('acx', 'Continuing automatically at');
    tmux('send-keys', '-t', 'acx', 'Escape');
    await waitScreen('acx', 'Automatic continue cancelled');
    await waitScreen('acx', '⚠ Usage limit reached · limit resets');
  });

  it('SIGTERM: exits 0 with the hint, a complete transcript and no sessions file', async () => {
    seed(acctA, { quota: { limit: 100, turnMs: 100 } });
    start('term', acctA, [], {}, true);
    await waitScreen('term', '❯\u00a0');
    const sf = await sessionOf(acctA, 'term');
    sendLine('term', 'long [turns=100]');
    await waitFor(() => assistantTexts(records(acctA, sf.sessionId)).length >= 2, { what: 'some answers' });
    process.kill(sf.pid, 'SIGTERM');
    const exit = await waitFor(() => /exit=(\d+)/.exec(screenWithHistory('term'))?.[1], { what: 'exit code' });
    expect(exit).toBe('0');
    expect(screenWithHistory('term')).toContain(`claude --resume ${sf.sessionId}`);
    expect(existsSync(join(acctA, 'sessions', `${sf.pid}.json`))).toBe(false);
    const raw = readFileSync(transcriptFile(acctA, sf.sessionId), 'utf8');
    expect(raw.endsWith('\n')).toBe(true);
    expect(() => raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown)).not.toThrow();
  });

  it('shows the bypass-permissions dialog when the control file asks and settings do not skip it', async () => {
    seed(acctA, { quota: { bypassDialog: true } });
    start('bp', acctA);
    const s = await waitScreen('bp', 'Bypass Permissions mode');
    expect(s).toContain(' ❯ 1. No, exit');
    expect(s).toContain('   2. Yes, I accept');
    tmux('send-keys', '-t', 'bp', '2');
    tmux('send-keys', '-t', 'bp', 'Enter');
    await waitScreen('bp', '⏵⏵ bypass permissions on');
    expect(JSON.parse(readFileSync(join(acctA, 'settings.json'), 'utf8'))).toMatchObject({ skipDangerousModePermissionPrompt: true });
    // Accepted once, never shown again in that home.
    start('bp2', acctA);
    await waitScreen('bp2', '⏵⏵ bypass permissions on');
  });

  it('a prompt argument is submitted as the first prompt', async () => {
    seed(acctA);
    start('arg', acctA, ['first thing [turns=2]']);
    await waitScreen('arg', '● Step 2 of 2 done.');
    const sf = await sessionOf(acctA, 'arg');
    expect(records(acctA, sf.sessionId).find((r) => r.type === 'user')?.message?.content).toBe('first thing [turns=2]');
  });
});

interface Posted {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A loopback listener that records every POST it receives. */
async function hookListener(): Promise<{ url: string; posts: Posted[]; close: () => Promise<void> }> {
  const posts: Posted[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, posts, close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const l = await hookListener();
  const port = Number(new URL(l.url).port);
  await l.close();
  return port;
}

describe('fake claude is as strict as the real one (start-up, stopping, hooks, statusline)', () => {
  it('keys sent before the prompt is drawn lose their Enter; the text waits in the input line', async () => {
    seed(acctA);
    const out = join(root, 'hooks');
    mkdirSync(out);
    writeSettings(acctA, { hooks: { UserPromptSubmit: [{ hooks: [{ type: 'command', command: `cat >> '${out}/ups.jsonl'; echo >> '${out}/ups.jsonl'` }] }] } });
    // A long start-up, so the keys below surely arrive before the prompt is drawn.
    start('early', acctA, [], { FAKE_CLAUDE_STARTUP_MS: '1500' });
    sendLine('early', 'continue please');
    const s = await waitScreen('early', '⏵⏵ bypass permissions on');
    expect(s).toContain('❯\u00a0continue please'); // typed, never submitted
    const sf = await sessionOf(acctA, 'early');
    expect(sf.status).toBe('idle');
    expect(records(acctA, sf.sessionId)).toEqual([]);
    // Typed again in full, the line holds the text twice: a retry has to clear the line first (Ctrl-U).
    tmux('send-keys', '-t', 'early', 'C-u');
    await waitFor(() => !screen('early').includes('continue please'), { what: 'the input line cleared' });
    sendLine('early', 'continue please');
    await waitScreen('early', '● Step 1 of 1 done.');
    expect(records(acctA, sf.sessionId).filter((r) => r.type === 'user').map((r) => r.message?.content)).toEqual(['continue please']);
    const submitted = readFileSync(join(out, 'ups.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(submitted.map((l) => (JSON.parse(l) as { prompt: string }).prompt)).toEqual(['continue please']);
  });

  it('the sessions file, SessionStart and the prompt come at once: keys typed at the first of them are read', async () => {
    seed(acctA);
    const out = join(root, 'ss.json');
    writeSettings(acctA, { hooks: { SessionStart: [{ hooks: [{ type: 'command', command: `cat > '${out}'` }] }] } });
    start('slow', acctA, [], { FAKE_CLAUDE_STARTUP_MS: '1500' });
    const pid = Number(tmux('display-message', '-p', '-t', 'slow', '#{pane_pid}').trim());
    // Whichever of the three is seen first, the keys typed then are read.
    await waitFor(() => existsSync(join(acctA, 'sessions', `${pid}.json`)) || existsSync(out) || screen('slow').includes('❯\u00a0'), { what: 'a sign of readiness' });
    sendLine('slow', 'typed at the first sign');
    await waitScreen('slow', '● Step 1 of 1 done.');
    expect(existsSync(out)).toBe(true);
  });

  it('--resume redraws the whole history, old limit banners and the cancelled automatic continue included', async () => {
    seed(acctA, { quota: { limit: 1, resetsAt: Math.floor(Date.now() / 1000) + 3600, autoContinue: true } });
    start('h1', acctA);
    await waitScreen('h1', '❯\u00a0');
    const sf = await sessionOf(acctA, 'h1');
    sendLine('h1', 'first');
    await waitScreen('h1', '● Step 1 of 1 done.');
    sendLine('h1', 'second');
    await waitScreen('h1', 'Continuing automatically at');
    tmux('send-keys', '-t', 'h1', 'Escape');
    await waitScreen('h1', 'Automatic continue cancelled · /rate-limit-options to wait again');
    sendLine('h1', '/exit');
    await waitFor(() => paneDead('h1'), { what: 'h1 exited' });

    start('h2', acctA, ['--resume', sf.sessionId]);
    const s = await waitScreen('h2', '⏵⏵ bypass permissions on');
    const history = ['❯ first', '● Step 1 of 1 done.', '❯ second', "  ⎿  You've hit your 5-hour limit · resets", '● Usage limit reached · set to continue automatically at', '● Automatic continue cancelled'];
    const at = history.map((line) => s.indexOf(line));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at); // in order
    // A resumed session is idle: the old banner is history, not a new limit.
    expect(s).not.toContain('Continuing automatically');
    expect((await sessionOf(acctA, 'h2')).status).toBe('idle');
  });

  it('Escape, Ctrl-C, Ctrl-C in one burst while an automatic continue is pending only cancel it', async () => {
    seed(acctA, { quota: { limit: 0, resetsAt: Math.floor(Date.now() / 1000) + 3600, autoContinue: true } });
    start('burst', acctA);
    await waitScreen('burst', '❯\u00a0');
    const sf = await sessionOf(acctA, 'burst');
    sendLine('burst', 'work');
    await waitScreen('burst', 'Continuing automatically at');
    tmux('send-keys', '-t', 'burst', 'Escape', 'C-c', 'C-c'); // one write: one read
    await waitScreen('burst', 'Automatic continue cancelled');
    // Both Ctrl-C were swallowed: it is still running and answers the next prompt.
    sendLine('burst', 'still there?');
    await waitFor(() => records(acctA, sf.sessionId).some((r) => r.type === 'user' && r.message?.content === 'still there?'), { what: 'the next prompt' });
    expect(paneDead('burst')).toBe(false);
    expect(screen('burst')).not.toContain('Resume this session with:');
  });

  it('two Ctrl-C back to back do not exit; Ctrl-C, a pause, Ctrl-C does, with the resume hint', async () => {
    seed(acctA);
    start('cc', acctA);
    await waitScreen('cc', '❯\u00a0');
    const sf = await sessionOf(acctA, 'cc');
    tmux('send-keys', '-t', 'cc', 'C-c', 'C-c'); // one write: the second is swallowed
    await waitScreen('cc', 'Press Ctrl-C again to exit');
    sendLine('cc', 'alive');
    await waitScreen('cc', '● Step 1 of 1 done.');
    // The first Ctrl-C's offer to exit lapses (2 s); then a person's two Ctrl-C exit.
    await waitFor(() => !screen('cc').includes('Press Ctrl-C again to exit'), { what: 'the offer to exit to lapse' });
    await exitWithCtrlC('cc');
    await waitScreen('cc', `claude --resume ${sf.sessionId}`);
    await waitFor(() => paneDead('cc'), { what: 'cc exited' });
  });

  it('runs the statusline per answer (at start, on a prompt, at the end of the answer), not per turn', async () => {
    seed(acctA, { quota: { limit: 100, used: 0, turnMs: 100, resetsAt: Math.floor(Date.now() / 1000) + 3600 } });
    const out = join(root, 'status.log');
    writeSettings(acctA, {
      statusLine: { type: 'command', command: `node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>require("fs").appendFileSync(process.argv[1],JSON.parse(d).rate_limits.five_hour.used_percentage+"\\n"))' '${out}'; echo ok` },
    });
    const runs = (): string[] => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
    start('cad', acctA);
    await waitFor(() => runs().length === 1, { what: 'the statusline at start' });
    sendLine('cad', 'four steps [turns=4]');
    await waitScreen('cad', '● Step 4 of 4 done.');
    await waitFor(() => runs().includes('4'), { what: 'the statusline after the answer' });
    expect(runs()).toEqual(['0', '0', '4']);
  });

  it('POSTs the hook JSON to "type": "http" hooks (never for SessionStart) with headers, interpolating only allowed variables', async () => {
    seed(acctA);
    const listener = await hookListener();
    const dead = await closedPort();
    try {
      const http = (path: string) => ({
        type: 'http',
        url: `${listener.url}${path}`,
        headers: { Authorization: 'Bearer $FAKE_HOOK_TOKEN', 'X-Braced': 'v=${FAKE_HOOK_TOKEN}', 'X-Other': '[$FAKE_OTHER]', 'X-Secret': '[$FAKE_SECRET]' },
        allowedEnvVars: ['FAKE_HOOK_TOKEN', 'FAKE_OTHER'],
      });
      // Nothing listens on `dead`: that hook fails at once and delays nothing after it.
      const group = (path: string) => [{ matcher: '', hooks: [{ type: 'http', url: `http://127.0.0.1:${dead}/x` }, http(path)] }];
      writeSettings(acctA, {
        httpHookAllowedEnvVars: ['FAKE_HOOK_TOKEN'], // FAKE_OTHER is allowed by the hook, not by the settings
        hooks: { SessionStart: group('/ss'), UserPromptSubmit: group('/ups'), Stop: group('/stop') },
      });
      start('hh', acctA, [], { FAKE_HOOK_TOKEN: 'tok-123', FAKE_OTHER: 'other', FAKE_SECRET: 'secret' });
      const sf = await sessionOf(acctA, 'hh');
      const posted = (path: string) => waitFor(() => listener.posts.find((p) => p.path === path), { what: `POST ${path}` });
      const common = { session_id: sf.sessionId, transcript_path: transcriptFile(acctA, sf.sessionId), cwd: proj };
      await waitScreen('hh', '❯\u00a0');
      sendLine('hh', 'over http');
      const ups = await posted('/ups');
      expect(ups.body).toMatchObject({ ...common, hook_event_name: 'UserPromptSubmit', prompt: 'over http' });
      expect(ups.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer tok-123', 'x-braced': 'v=tok-123', 'x-other': '[]', 'x-secret': '[]' });
      expect((await posted('/stop')).body).toMatchObject({ ...common, hook_event_name: 'Stop', stop_hook_active: false });
      // Like the real CLI: "HTTP hooks are not supported for SessionStart".
      expect(listener.posts.map((p) => p.path)).toEqual(['/ups', '/stop']);
    } finally {
      await listener.close();
    }
  });

  it('sends no HTTP hook to a URL outside allowedHttpHookUrls or to a private address', async () => {
    seed(acctA);
    const listener = await hookListener();
    const out = join(root, 'ups.json');
    try {
      writeSettings(acctA, {
        allowedHttpHookUrls: [`${listener.url}/allowed/*`],
        hooks: {
          UserPromptSubmit: [
            {
              hooks: [
                { type: 'http', url: `${listener.url}/refused` },
                { type: 'http', url: 'http://10.255.255.1:9/private', timeout: 1 },
                { type: 'http', url: `${listener.url}/allowed/ups` },
                { type: 'command', command: `cat > '${out}'` },
              ],
            },
          ],
        },
      });
      start('ah', acctA);
      await waitScreen('ah', '❯\u00a0');
      sendLine('ah', 'hi');
      await waitFor(() => existsSync(out), { what: 'the command hook after the HTTP ones' });
      expect(listener.posts.map((p) => p.path)).toEqual(['/allowed/ups']);
    } finally {
      await listener.close();
    }
  });
});
