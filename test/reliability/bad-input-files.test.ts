import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, mkdirSync, readdirSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { LimitSource } from '../../src/monitor/limit-event.js';
import { tmux } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { CLI_ENTRY, runCli, type CliRun } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { recordFigure } from './figures.js';
import { badInputTallies, capturedLogger, expectNothingChanged, probeSandbox, PROBE_POOL, expectTranscriptsIntact, poolWithConversations, realLimitIsSwapped, snapshotTranscripts } from './probe-kit.js';

const TEST = 'test/reliability/bad-input-files.test.ts';
const MB = 1024 * 1024;


describe('bad input: transcripts, pane text, configs (real tmux, fake Claude Code, in-process daemon)', () => {
  const e2e = useE2e('cf-badf', { telegram: true });

  /** Detection only through `source`, so the later real limit proves that very path still works. */
  async function setUp(source: LimitSource) {
    const sandbox = await probeSandbox(e2e);
    const log = capturedLogger();
    const d = await e2e.startDaemon(sandbox, { logger: log.logger, sources: new Set([source]) });
    await poolWithConversations(d, PROBE_POOL);
    return { sandbox, d, log, before: snapshotTranscripts(sandbox) };
  }


  it('transcripts (a 5 MB line, malformed lines, a truncated last line, files truncated and replaced under the watcher, a FIFO and a directory named like one): skipped, nothing changes, a later real limit is still detected from the transcript', async () => {
    const { sandbox, d, before, log } = await setUp('transcript');
    const projects = join(sandbox.config.sharedDir, 'projects');
    const webId = d.store.getSession('web')?.sessionId ?? '';
    const dir = readdirSync(projects).map((name) => join(projects, name)).find((p) => readdirSync(p).includes(`${webId}.jsonl`)) ?? '';
    expect(dir).not.toBe('');
    const tally = badInputTallies();
    const record = (extra: Record<string, unknown>) => JSON.stringify({ type: 'assistant', sessionId: randomUUID(), uuid: randomUUID(), timestamp: new Date().toISOString(), message: { role: 'assistant', content: [{ type: 'text', text: 'junk' }] }, ...extra }) + '\n';
    // Every record the watcher hands to the monitor: a sentinel written after the junk proves it read on.
    const seen = new Set<string>();
    const handle = d.monitor.handleTranscript.bind(d.monitor);
    d.monitor.handleTranscript = (signal) => {
      seen.add(signal.sessionId);
      handle(signal);
    };
    const sentinel = async (file: string) => {
      const id = randomUUID();
      appendFileSync(file, record({ sessionId: id }));
      return waitFor(() => seen.has(id), { timeoutMs: 10_000, what: `the sentinel in ${file}` }).then(() => true, () => false);
    };
    const tries: Record<string, (file: string) => void | Promise<void>> = {
      '5 MB line (JSON)': (file) => { appendFileSync(file, record({ blob: 'x'.repeat(5 * MB) })); },
      '5 MB line (not JSON)': (file) => { appendFileSync(file, `${randomBytes(5 * MB).toString('base64')}\n`); },
      'malformed lines': (file) => {
        const lines = ['garbage', '{"half":', '[]', 'null', '{"type":5}', record({ isApiErrorMessage: 'yes', error: 5, quotaLimits: 'soon' }).trim(), record({ type: 'system', content: { nested: [1, 2] } }).trim()];
        appendFileSync(file, lines.join('\n') + '\n');
        appendFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('\n')]));
      },
      'truncated last line': (file) => { appendFileSync(file, record({}).slice(0, 40)); },
      'file truncated under the watcher': (file) => {
        appendFileSync(file, record({}) + record({}));
        truncateSync(file, 0);
        appendFileSync(file, record({}));
      },
      'file replaced under the watcher': (file) => {
        writeFileSync(`${file}.new`, record({}) + record({}));
        renameSync(`${file}.new`, file);
      },
      'a FIFO named like a transcript': (file) => { execFileSync('mkfifo', [`${file}.fifo.jsonl`]); },
      // A followed transcript replaced by a FIFO: opening it for reading would wait for a writer forever.
      'a FIFO put in place of a followed transcript': async (file) => {
        for (const n of [1, 2]) {
          const other = join(dir, `${randomUUID()}.jsonl`);
          expect(await sentinel(other)).toBe(true);
          execFileSync('mkfifo', [`${other}.${n}.fifo`]);
          renameSync(`${other}.${n}.fifo`, other);
          appendFileSync(file, record({}));
        }
      },
      'a directory named like a transcript': (file) => { mkdirSync(`${file}.dir.jsonl`); },
    };
    const sameFile = (kind: string) => !/truncated last line|FIFO named|directory/.test(kind);
    for (let run = 0; run < 3; run++) {
      for (const [kind, tryIt] of Object.entries(tries)) {
        const file = join(dir, `${randomUUID()}.jsonl`);
        appendFileSync(file, record({}));
        await tryIt(file);
        const readOn = sameFile(kind) ? await sentinel(file) : true;
        const stillWatching = await sentinel(join(dir, `${randomUUID()}.jsonl`));
        tally.count(kind, readOn && stillWatching && log.lines.every((l) => l.level < 50));
      }
    }
    expectNothingChanged(e2e, d);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    expect(d.store.getLedgerEntry('A')?.source).toMatch(/^transcript/);
    expectTranscriptsIntact(sandbox, before);
    recordFigure({ probe: 'bad input: transcripts', test: TEST, runs: tally.runs(), passes: tally.passes(), measured: { ...tally.measured(), laterLimitToSwapMs: limit.ms } });
    expect(tally.failures()).toEqual([]);
  });

  it('pane text full of escape sequences (SGR floods, huge parameters, unterminated OSC and DCS, random bytes, invalid UTF-8, modes): the screen poll goes on, no false limit, a later real limit is still read off the screen', async () => {
    const { sandbox, d, before, log } = await setUp('screen');
    let polls = 0;
    let pollFaults = 0;
    const poll = d.monitor.pollScreens.bind(d.monitor);
    d.monitor.pollScreens = async (panes) => {
      try {
        await poll(panes);
        polls++;
      } catch (err) {
        pollFaults++;
        throw err;
      }
    };
    const ttyOf = (name: string) => tmux(e2e.socket, 'display-message', '-p', '-t', `=${name}:`, '#{pane_tty}').trim();
    const junk: Record<string, Buffer> = {
      'SGR flood': Buffer.from('\u001b[1;31;42;4;5;7m'.repeat(20_000) + 'colourful\r\n'),
      'huge CSI parameters': Buffer.from('\u001b[99999999;99999999H\u001b[999999999999999999999J\u001b[?99999h\u001b[4294967296;4294967296r\u001b[-1;-1H\u001b[0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0m'),
      'unterminated OSC': Buffer.from(`\u001b]0;${'t'.repeat(100_000)}`),
      'DCS, APC, PM, SOS strings': Buffer.from(`\u001bP${'q'.repeat(50_000)}\u001b\\\u001b_apc\u001b\\\u001b^pm\u001b\\\u001bXsos\u001b\\`),
      'random bytes': randomBytes(200_000),
      'invalid UTF-8': Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc, 0x0d, 0x0a]),
      'modes (alternate screen, scroll region, mouse, bracketed paste)': Buffer.from('\u001b[?1049h\u001b[3;5r\u001b[?1000h\u001b[?1006h\u001b[?2004h\u001b7\u001b[20;1Hmid-screen\u001b8\u001b[?25l'),
      'a 100 KB line': Buffer.from('w'.repeat(100_000)),
    };
    const tally = badInputTallies();
    for (let run = 0; run < 3; run++) {
      for (const [kind, bytes] of Object.entries(junk)) {
        for (const name of PROBE_POOL) writeFileSync(ttyOf(name), bytes);
        const seen = polls;
        // The poll reads these screens and goes on (at most a few poll intervals).
        const polled = await waitFor(() => polls >= seen + 2, { timeoutMs: 10_000, what: `screen polls after ${kind}` }).catch(() => false);
        tally.count(kind, polled && pollFaults === 0);
      }
    }
    expectNothingChanged(e2e, d);
    expect(log.lines.filter((l) => l.level >= 50)).toEqual([]);
    // What the junk left in the terminal (a string never terminated, a scroll region, another
    // character set: random bytes make any of them) garbles every program's drawing until the
    // terminal is reset: cancel any sequence (CAN, ST), reset (RIS), and make the program
    // redraw (a resize) so the screen shows what it draws again.
    for (const name of PROBE_POOL) {
      writeFileSync(ttyOf(name), '\u0018\u001b\\\u0007\u001bc');
      tmux(e2e.socket, 'resize-window', '-t', `=${name}:`, '-x', '199');
      tmux(e2e.socket, 'resize-window', '-t', `=${name}:`, '-x', '200');
    }
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    expect(d.store.getLedgerEntry('A')?.source).toMatch(/^screen/);
    expectTranscriptsIntact(sandbox, before);
    recordFigure({ probe: 'bad input: pane text full of escape sequences', test: TEST, runs: tally.runs(), passes: tally.passes(), measured: { ...tally.measured(), polls, pollFaults, laterLimitToSwapMs: limit.ms } });
    expect(tally.failures()).toEqual([]);
  });

  it('configs (wrong types, not YAML, an alias bomb, a directory, a FIFO, unreadable, a symlink loop): every command refuses at once with a clear message, the running daemon keeps working, a later real limit is swapped', async () => {
    const { sandbox, d, before } = await setUp('hook');
    const root = e2e.root;
    const good = readFileSync(sandbox.configFile, 'utf8');
    const bad: Record<string, { path: string; why: RegExp; uid?: number }> = {};
    const put = (kind: string, make: (path: string) => void, why: RegExp, uid?: number) => {
      const path = join(root, `bad-${Object.keys(bad).length}.yaml`);
      make(path);
      bad[kind] = { path, why, ...(uid === undefined ? {} : { uid }) };
    };
    put('wrong types', (p) => {
      const raw = parse(good) as Record<string, Record<string, unknown>>;
      writeFileSync(p, stringify({ ...raw, accounts: 5, monitor: { ...raw.monitor, pollIntervalMs: 'fast' }, pool: { autonomous: { min: 'two' } }, tmux: [] }));
    }, /accounts.*(expected|must)|pollIntervalMs/s);
    put('not YAML (binary)', (p) => { writeFileSync(p, randomBytes(4096)); }, /YAML|yaml|line|invalid|config/i);
    put('invalid UTF-8', (p) => { writeFileSync(p, Buffer.concat([Buffer.from('accounts:\n  - name: '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')])); }, /config|accounts|UTF|home/i);
    put('empty', (p) => { writeFileSync(p, ''); }, /accounts|empty|config/i);
    put('YAML alias bomb', (p) => {
      const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
      writeFileSync(p, lines.join('\n') + '\n');
    }, /alias|YAML|config/i);
    put('a directory', (p) => { mkdirSync(p); }, /regular file|directory|EISDIR/);
    put('a FIFO', (p) => { execFileSync('mkfifo', [p]); }, /regular file|FIFO|not a file/i);
    put('a symlink loop', (p) => { symlinkSync(p, p); }, /ELOOP|symbolic links|loop/i);
    put('unreadable (mode 000, run as nobody)', (p) => { writeFileSync(p, good); chmodSync(p, 0o000); }, /EACCES|permission|cannot read/i, 65534);

    const tally = badInputTallies();
    for (const [kind, { path, why, uid }] of Object.entries(bad)) {
      for (const args of [['config', 'check'], ['status'], ['run']]) {
        const started = Date.now();
        const run = uid === undefined ? await runCli(['--config', path, ...args], { timeoutMs: 15_000 }) : await runCliAs(uid, ['--config', path, ...args]);
        const out = run.stdout + run.stderr;
        const ok = run.code !== null && run.code !== 0 && why.test(out) && !/\n\s+at .+\(.+:\d+:\d+\)/.test(out) && Date.now() - started < 15_000;
        if (!ok) process.stdout.write(`config probe ${kind} / ${args.join(' ')}: code ${String(run.code)}\n${out.slice(0, 600)}\n`);
        tally.count(kind, ok);
      }
    }
    // The daemon that was running all along never noticed: it still answers and swaps.
    expectNothingChanged(e2e, d);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    expectTranscriptsIntact(sandbox, before);
    recordFigure({ probe: 'bad input: configs', test: TEST, runs: tally.runs(), passes: tally.passes(), measured: { ...tally.measured(), laterLimitToSwapMs: limit.ms } });
    expect(tally.failures()).toEqual([]);
  });
});

/** The built CLI run as another user (root reads any file: an unreadable config needs someone else). */
function runCliAs(uid: number, args: readonly string[]): Promise<CliRun> {
  const { TMUX: _tmux, TMUX_PANE: _pane, ...env } = process.env;
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { uid, gid: uid, env, stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((done) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}
