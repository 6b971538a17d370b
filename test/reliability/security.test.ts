import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { hookTokenPath, listeningPath } from '../../src/accounts/hook-endpoint.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import { isSameOrInside } from '../../src/config/paths.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { CLI_ENTRY, exitOf, runCli } from '../helpers/cli.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { waitFor } from '../helpers/wait-for.js';
import { tmux } from '../helpers/e2e.js';
import { processAlive } from '../../src/process-alive.js';
import { sameSecret } from '../../src/server/auth.js';
import { BLOCK_MS, MAX_FAILURES } from '../../src/server/guess-limit.js';
import { creationsIn, TRACED_CALLS } from './creation-modes.js';
import { recordFigure } from './figures.js';
import { median } from './process-sample.js';

const TEST = 'test/reliability/security.test.ts';
const SERVER_TOKEN = 'srv-token-3f9a1c7e5b2d4f6a8c0e';
const ONE_ACCOUNT = [{ name: 'A', quota: { limit: 1000, turnMs: 50 } }];

/** Every entry under `dir` (itself included) with its permission bits. */
function modesUnder(dir: string): Map<string, number> {
  const out = new Map<string, number>([[dir, statSync(dir).mode & 0o777]]);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    out.set(path, info.mode & 0o777);
    if (info.isDirectory()) for (const [p, m] of modesUnder(path)) out.set(p, m);
  }
  return out;
}

describe('security (probe 7)', () => {
  const e2e = useE2e('cf-sec', { telegram: true });

  it('the state dir is born 0700 and the database, its -wal/-shm, the lock, the hook token and the control socket 0600, even under umask 000 (every creation traced)', async () => {
    const sandbox = await e2e.sandbox({ accounts: ONE_ACCOUNT, autonomous: { min: 1, max: 1 } });
    const stateDir = sandbox.config.stateDir;
    rmSync(stateDir, { recursive: true, force: true }); // the daemon makes it, under the trace
    // The tmux server runs before the daemon, so the trace (which follows every child) ends with the daemon.
    tmux(e2e.socket, 'new-session', '-d', '-s', 'outside', 'sleep 100000');
    const trace = join(e2e.root, 'strace.txt');
    const script = `umask 000; exec strace -f -qq -s 4096 -o "$0" -e trace=$4 "$1" "$2" --config "$3" run`;
    const child = spawn('sh', ['-c', script, trace, process.execPath, CLI_ENTRY, sandbox.configFile, TRACED_CALLS], { stdio: 'ignore', env: { ...process.env, TMUX: '', TMUX_PANE: '' } });
    try {
      const { pid } = await waitFor(() => sendRequest(daemonSocketPath(sandbox.config), 'ping', null, { timeoutMs: 2000 }) as Promise<{ pid: number }>, { timeoutMs: 120_000, intervalMs: 500, what: 'the traced daemon up' });
      await waitFor(() => readdirSync(stateDir).includes('state.db-wal'), { what: 'the WAL' });
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !processAlive(pid), { timeoutMs: 60_000, what: 'the traced daemon gone' });
      await exitOf(child, 30_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const created = creationsIn(readFileSync(trace, 'utf8'), 0).filter((c) => isSameOrInside(c.path, stateDir));
    // Nothing for the group or others, ever (the statusline script is 0700: it runs).
    const wider = created.filter((c) => (c.mode & 0o077) !== 0);
    // The lock is a hard link to daemon.lock.<pid>, the hook token a temp file renamed: each is born under its first name.
    const born = (name: string) => created.some((c) => c.path === join(stateDir, name) || c.path.startsWith(join(stateDir, `${name}.`)));
    const everyName = ['', 'state.db', 'state.db-wal', 'state.db-shm', 'daemon.lock', 'daemon.sock', 'hook-token', 'http-listening'];
    recordFigure({
      probe: 'state dir 0700, database and sockets 0600, born so',
      test: TEST,
      runs: 1,
      passes: wider.length === 0 && everyName.every(born) ? 1 : 0,
      measured: { creationsTraced: created.length, widerThanPrivate: wider.length, umask: '000', widest: `0${Math.max(0, ...created.map((c) => c.mode)).toString(8)}` },
    });
    expect(everyName.filter((n) => !born(n)), 'each of them seen being made').toEqual([]);
    expect(wider, 'a path born wider than 0700/0600').toEqual([]);
    // And so they stay once the daemon has gone.
    for (const [path, mode] of modesUnder(stateDir)) expect([path, mode & 0o077]).toEqual([path, 0]);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    for (const name of ['state.db', 'hook-token']) expect([name, statSync(join(stateDir, name)).mode & 0o777]).toEqual([name, 0o600]);
  }, 240_000);

  it('an account\'s settings.json that carries the hook token is born 0600, even where the one before was 0644 (init traced under umask 022)', async () => {
    const port = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => { done(typeof address === 'object' && address ? address.port : 0); });
      });
    });
    const sandbox = await e2e.sandbox({ accounts: ONE_ACCOUNT, server: { listen: `127.0.0.1:${String(port)}` } });
    const settings = join(sandbox.config.home, '.claude-A', 'settings.json');
    writeFileSync(settings, '{"model":"opus"}\n');
    chmodSync(settings, 0o644); // as a person's settings.json usually is
    const trace = join(e2e.root, 'strace-init.txt');
    const script = `umask 022; exec strace -f -qq -s 4096 -o "$0" -e trace=$4 "$1" "$2" --config "$3" init`;
    const run = spawnSync('sh', ['-c', script, trace, process.execPath, CLI_ENTRY, sandbox.configFile, TRACED_CALLS], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const born = creationsIn(readFileSync(trace, 'utf8'), 0o022).filter((c) => c.path.startsWith(settings));
    const hookToken = readFileSync(hookTokenPath(sandbox.config.stateDir), 'utf8').trim();
    const carries = readFileSync(settings, 'utf8').includes(hookToken);
    const wider = born.filter((c) => (c.mode & 0o077) !== 0);
    recordFigure({ probe: 'settings.json with the hook token born 0600', test: TEST, runs: 1, passes: carries && born.length > 0 && wider.length === 0 ? 1 : 0, measured: { writesTraced: born.length, widerThanPrivate: wider.length, finalMode: `0${(statSync(settings).mode & 0o777).toString(8)}` } });
    expect(carries).toBe(true);
    expect(born.length).toBeGreaterThan(0);
    expect(wider).toEqual([]);
    expect(statSync(settings).mode & 0o777).toBe(0o600);
  }, 180_000);

  it('the trace reader sees a file born wide (the probe above can fail)', () => {
    const trace = [
      '10 umask(022) = 000',
      '10 openat(AT_FDCWD, "/s/wide", O_RDWR|O_CREAT|O_CLOEXEC, 0666) = 3',
      '10 openat(AT_FDCWD, "/s/wide", O_RDWR|O_CREAT|O_CLOEXEC, 0600) = 3',
      '11 mkdir("/s/dir", 0777 <unfinished ...>',
      '10 bind(3, {sa_family=AF_UNIX, sun_path="/s/sock"}, 110) = 0',
      '10 openat(AT_FDCWD, "/s/failed", O_RDWR|O_CREAT, 0666) = -1 EACCES (Permission denied)',
      '10 unlink("/s/wide") = 0',
      '10 openat(AT_FDCWD, "/s/wide", O_WRONLY|O_CREAT|O_TRUNC, 0600) = 4',
    ].join('\n');
    expect(creationsIn(trace, 0).map((c) => [c.path, c.mode.toString(8)])).toEqual([['/s/wide', '644'], ['/s/dir', '755'], ['/s/sock', '755'], ['/s/wide', '600']]);
  });

  it('a state dir or a shared dir that is a symbolic link planted elsewhere is refused, and nothing is written where it points', async () => {
    const sandbox = await e2e.sandbox({ accounts: ONE_ACCOUNT });
    const elsewhere = join(e2e.root, 'planted');
    mkdirSync(elsewhere);
    const attempts: { what: string; code: number | null; said: string }[] = [];
    const run = async (what: string, args: string[]) => {
      const r = await runCli(['--config', sandbox.configFile, ...args], { timeoutMs: 60_000 });
      attempts.push({ what, code: r.code, said: r.stdout + r.stderr });
    };
    // stateDir → a planted link.
    rmSync(sandbox.config.stateDir, { recursive: true, force: true });
    symlinkSync(elsewhere, sandbox.config.stateDir);
    await run('run with a linked stateDir', ['run']);
    await run('task list with a linked stateDir', ['task', 'list']);
    rmSync(sandbox.config.stateDir);
    // sharedDir → a planted link.
    rmSync(sandbox.config.sharedDir, { recursive: true });
    symlinkSync(elsewhere, sandbox.config.sharedDir);
    await run('init with a linked sharedDir', ['init']);
    await run('run with a linked sharedDir', ['run']);
    const refused = attempts.filter((a) => a.code !== 0 && a.code !== null && /symbolic link/.test(a.said));
    recordFigure({ probe: 'a stateDir or sharedDir that is a symlink is refused', test: TEST, runs: attempts.length, passes: refused.length, measured: { filesWrittenWhereTheLinkPoints: readdirSync(elsewhere).length } });
    for (const a of attempts) expect(a, a.what).toMatchObject({ code: expect.not.stringMatching(/^0$/) as unknown, said: expect.stringContaining('symbolic link') as unknown });
    expect(attempts.every((a) => a.code !== 0 && a.code !== null)).toBe(true);
    expect(readdirSync(elsewhere)).toEqual([]);
  }, 240_000);

  it('the server, hook and bot tokens reach no log, status, /api, /metrics or error message; tokens are compared in constant time; hooks need the hook token; a second daemon is refused', async () => {
    const sandbox = await e2e.sandbox({ accounts: [...ONE_ACCOUNT, { name: 'B', quota: { limit: 1000, turnMs: 50 } }], autonomous: { min: 1, max: 1 }, server: { listen: '127.0.0.1:0', token: SERVER_TOKEN } });
    const daemon = e2e.spawnDaemon(sandbox, { CLAUDE_FAILOVER_LOG_LEVEL: 'debug' });
    const stateDir = sandbox.config.stateDir;
    const base = await waitFor(() => readFileSync(listeningPath(stateDir), 'utf8').trim(), { timeoutMs: 60_000, what: 'the HTTP listener' });
    const hookToken = readFileSync(hookTokenPath(stateDir), 'utf8').trim();
    const secrets = { server: SERVER_TOKEN, hook: hookToken, bot: '123456:TEST-TOKEN' };
    const seen: Record<string, string> = {};
    const http = async (what: string, path: string, init: RequestInit = {}) => {
      const answer = await fetch(`${base}${path}`, init);
      const text = await answer.text();
      seen[what] = `${String(answer.status)} ${text}`;
      return answer.status;
    };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    await http('/healthz', '/healthz');
    await http('/api/status', '/api/status', { headers: bearer(SERVER_TOKEN) });
    await http('/metrics', '/metrics');
    await http('/', '/');
    const statuses = {
      switchNoToken: await http('switch without a token', '/api/switch', { method: 'POST' }),
      switchWrongToken: await http('switch with a wrong token', '/api/switch', { method: 'POST', headers: bearer(`${SERVER_TOKEN}x`) }),
      switchUnknownAccount: await http('switch to an unknown account', '/api/switch', { method: 'POST', headers: { ...bearer(SERVER_TOKEN), 'content-type': 'application/json' }, body: '{"account":"nobody"}' }),
      hookNoToken: await http('hook without a token', '/hooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hook_event_name":"StopFailure","session_id":"s","error":"rate_limit"}' }),
      hookWrongToken: await http('hook with a wrong token', '/hooks', { method: 'POST', headers: { ...bearer(SERVER_TOKEN), 'content-type': 'application/json' }, body: '{"hook_event_name":"StopFailure","session_id":"s","error":"rate_limit"}' }),
      statuslineNoToken: await http('statusline without a token', '/statusline', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      loginWrongToken: await http('login with a wrong token', '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base }, body: 'token=wrong-token-of-some-length' }),
    };
    for (const [what, args] of Object.entries({ status: ['status'], 'status --json': ['status', '--json'], 'config check': ['config', 'check'], 'config check --json': ['config', 'check', '--json'], 'switch nobody': ['switch', 'nobody'], 'a second daemon': ['run'] })) {
      const r = await runCli(['--config', sandbox.configFile, ...args], { timeoutMs: 60_000 });
      seen[what] = `${String(r.code)} ${r.stdout}${r.stderr}`;
    }
    // Guessing: wrong tokens from one address are answered until MAX_FAILURES, then 429 for a minute,
    // the right token included (a block that let it through would confirm a guess).
    let wrongBefore429 = 0;
    let blocked: Response | null = null;
    for (let i = 0; i < MAX_FAILURES + 5 && !blocked; i++) {
      const answer = await fetch(`${base}/api/switch`, { method: 'POST', headers: bearer(`${SERVER_TOKEN}-guess-${String(i)}`) });
      await answer.text();
      if (answer.status === 429) blocked = answer;
      else wrongBefore429 += 1;
    }
    const rightWhileBlocked = await fetch(`${base}/api/status`, { headers: bearer(SERVER_TOKEN) });
    seen['right token while blocked'] = `${String(rightWhileBlocked.status)} ${await rightWhileBlocked.text()}`;
    const hookWhileBlocked = await http('hook with its token while blocked', '/hooks', { method: 'POST', headers: { ...bearer(hookToken), 'content-type': 'application/json' }, body: '{"hook_event_name":"Stop","session_id":"s"}' });
    const guessing = {
      // switchWrongToken and loginWrongToken counted already (a wrong hook token is not: that token is random).
      wrongAnsweredBefore429: wrongBefore429 + 2,
      retryAfterS: Number(blocked?.headers.get('retry-after') ?? 0),
      rightTokenWhileBlocked: rightWhileBlocked.status,
      hookWhileBlocked,
    };
    // Constant time: the comparison every token goes through (sameSecret), with a token wrong in its
    // first byte and in its last, interleaved (a figure, not a bound; over HTTP the block above stops a timing attack first).
    const timing = { first: [] as number[], last: [] as number[] };
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      for (const [which, token] of [['first', `x${SERVER_TOKEN.slice(1)}`], ['last', `${SERVER_TOKEN.slice(0, -1)}x`]] as const) {
        const t = process.hrtime.bigint();
        const same = sameSecret(token, SERVER_TOKEN);
        timing[which].push(Number(process.hrtime.bigint() - t));
        if (!same) rejected += 1;
      }
    }
    daemon.kill('SIGTERM');
    expect(await exitOf(daemon, 60_000)).toEqual({ code: 0, signal: null });
    seen['daemon log'] = readFileSync(join(e2e.root, 'daemon.log'), 'utf8');

    const leaks = Object.entries(seen).flatMap(([where, text]) => Object.entries(secrets).filter(([, secret]) => text.includes(secret)).map(([name]) => `${name} token in ${where}`));
    const expected = { switchNoToken: 401, switchWrongToken: 401, switchUnknownAccount: 200, hookNoToken: 401, hookWrongToken: 401, statuslineNoToken: 401, loginWrongToken: 401 };
    const secondRefused = /another claude-failover daemon|already listens/.test(seen['a second daemon'] ?? '') && !(seen['a second daemon'] ?? '').startsWith('0 ');
    recordFigure({
      probe: 'no secret in logs, status, /api, /metrics or errors; hooks authenticated; second daemon refused',
      test: TEST,
      runs: 1,
      passes: leaks.length === 0 && secondRefused ? 1 : 0,
      measured: { placesRead: Object.keys(seen).length, leaks: leaks.length, logBytes: (seen['daemon log'] ?? '').length, ...statuses },
    });
    const guessingLimited = guessing.wrongAnsweredBefore429 === MAX_FAILURES && guessing.retryAfterS > 0 && guessing.retryAfterS <= BLOCK_MS / 1000 && guessing.rightTokenWhileBlocked === 429 && guessing.hookWhileBlocked === 200;
    recordFigure({ probe: 'guessing server.token is limited per address', test: TEST, runs: 1, passes: guessingLimited ? 1 : 0, measured: guessing });
    recordFigure({
      probe: 'constant-time token comparison',
      test: TEST,
      runs: 4000,
      passes: rejected,
      measured: { medianNsWrongFirstByte: Math.round(median(timing.first)), medianNsWrongLastByte: Math.round(median(timing.last)) },
    });
    expect(rejected).toBe(4000);
    expect(guessing).toEqual({ wrongAnsweredBefore429: MAX_FAILURES, retryAfterS: expect.any(Number) as unknown, rightTokenWhileBlocked: 429, hookWhileBlocked: 200 });
    expect(guessing.retryAfterS).toBeGreaterThan(0);
    expect(guessing.retryAfterS).toBeLessThanOrEqual(BLOCK_MS / 1000);
    expect(leaks).toEqual([]);
    expect(seen['daemon log']).toContain('"level"'); // the log was written, at debug
    expect(statuses).toMatchObject({ ...expected, switchUnknownAccount: expect.any(Number) as unknown });
    expect(secondRefused, seen['a second daemon']).toBe(true);
  }, 240_000);

  it('every secret comparison in src goes through timingSafeEqual (no === on a token, a secret, a CSRF value or a signature)', () => {
    const root = join(import.meta.dirname, '..', '..', 'src');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) files.push(path);
      }
    };
    walk(root);
    const secretName = String.raw`[\w.?]*(?:token|secret|csrf|bearer|signature|cookie)[\w.?]*`;
    const other = String.raw`(?!null\b|undefined\b|['"\`]|\d)[\w.?]+`;
    const compare = new RegExp(String.raw`\b${secretName}\s*[!=]==?\s*${other}|\b${other}\s*[!=]==?\s*${secretName}\b`, 'i');
    const found = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ at: `${f.slice(root.length + 1)}:${String(i + 1)}`, line })).filter(({ line }) => compare.test(line) && !/typeof /.test(line)));
    const safe = files.filter((f) => readFileSync(f, 'utf8').includes('timingSafeEqual'));
    recordFigure({ probe: 'constant-time token comparison (source)', test: TEST, runs: files.length, passes: files.length - found.length, measured: { filesScanned: files.length, plainComparisons: found.length, filesUsingTimingSafeEqual: safe.length } });
    expect(found).toEqual([]);
    expect(safe.length).toBeGreaterThan(0);
  });

  it.each([['0.0.0.0:7420'], ['[::]:7420'], ['192.168.1.20:7420'], ['example.com:7420']])('a listener on %s without server.token is refused by config check and by run', async (listen) => {
    const sandbox = await e2e.sandbox({ accounts: ONE_ACCOUNT });
    const raw = parse(readFileSync(sandbox.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(sandbox.configFile, stringify({ ...raw, server: { listen } }));
    const check = await runCli(['--config', sandbox.configFile, 'config', 'check'], { timeoutMs: 30_000 });
    const run = await runCli(['--config', sandbox.configFile, 'run'], { timeoutMs: 60_000 });
    const refused = [check, run].filter((r) => r.code !== 0 && r.code !== null && /not loopback/.test(r.stdout + r.stderr));
    recordFigure({ probe: `a non-loopback listener without a token is refused (${listen})`, test: TEST, runs: 2, passes: refused.length });
    expect(refused).toHaveLength(2);
  }, 120_000);
});
