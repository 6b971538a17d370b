import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { createConnection, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { LimitSource } from '../../src/monitor/limit-event.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { readHookToken } from '../../src/accounts/hook-endpoint.js';
import { tmux } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { exitOf, spawnCli } from '../helpers/cli.js';
import { recordFigure } from './figures.js';
import { badInputTallies, capturedLogger, expectNothingChanged, probeSandbox, PROBE_POOL, expectTranscriptsIntact, poolWithConversations, realLimitIsSwapped, snapshotTranscripts } from './probe-kit.js';

const TEST = 'test/reliability/bad-input.test.ts';
const MB = 1024 * 1024;
const SERVER_TOKEN = 'reliability-server-token-0123456789';



/** A hook payload that is no such thing: each is sent as Claude Code would, and must change nothing. */
const HOOK_JUNK: Record<string, Buffer> = {
  garbage: Buffer.from('\u0000garbage{{{\u001b[31m}}}'),
  empty: Buffer.alloc(0),
  'invalid UTF-8': Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0x7b, 0x7d]),
  'wrong types': Buffer.from(JSON.stringify({ session_id: 5, transcript_path: {}, cwd: [], hook_event_name: 42, error: { kind: 'rate_limit' } })),
  'a limit of the wrong type': Buffer.from(JSON.stringify({ session_id: ['s'], transcript_path: 7, cwd: null, hook_event_name: 'StopFailure', error: ['rate_limit'], error_details: 12 })),
  '10 MB of JSON': Buffer.from(JSON.stringify({ session_id: 's', hook_event_name: 'Stop', blob: 'x'.repeat(10 * MB) })),
  '10 MB of junk': randomBytes(10 * MB),
};
const HOOK_EVENTS = ['StopFailure', 'Stop', 'UserPromptSubmit', 'SessionStart'];

describe('bad input: hooks, the control socket, HTTP (real tmux, fake Claude Code, in-process daemon)', () => {
  const e2e = useE2e('cf-bad', { telegram: true });

  /** Detection only through `source`, so the later real limit proves that very path still works. */
  async function setUp(source: LimitSource, http: boolean) {
    const sandbox = await probeSandbox(e2e, http ? { server: { listen: '127.0.0.1:0', token: SERVER_TOKEN } } : {});
    const log = capturedLogger();
    const d = await e2e.startDaemon(sandbox, { logger: log.logger, http, sources: new Set([source]) });
    await poolWithConversations(d, PROBE_POOL);
    return { sandbox, d, log, socket: daemonSocketPath(sandbox.config), before: snapshotTranscripts(sandbox) };
  }

  const paneOf = (name: string) => tmux(e2e.socket, 'display-message', '-p', '-t', `=${name}:`, '#{pane_id}').trim();
  const ping = async (socket: string) => {
    const started = performance.now();
    const reply = (await sendRequest(socket, 'ping', null, { timeoutMs: 5000 })) as { pid?: number };
    return { ok: reply.pid === process.pid, ms: performance.now() - started };
  };
  /** The junk changed nothing: no swap, the account in use not marked exhausted, every session as it was. */

  it('hook payloads through the hook relay (garbage, empty, 10 MB, invalid UTF-8, wrong types): each exits 0 at once, nothing changes, a later real limit is still detected by hook', async () => {
    const { sandbox, d, socket, before } = await setUp('hook', false);
    const pane = paneOf('web');
    const tally = badInputTallies();
    for (let round = 0; round < 3; round++) {
      for (const [kind, payload] of Object.entries(HOOK_JUNK)) {
        const event = HOOK_EVENTS[(round + kind.length) % HOOK_EVENTS.length] ?? 'Stop';
        const started = performance.now();
        const child = spawnCli(['hook', '--socket', socket, event], { env: { TMUX_PANE: pane } });
        let stdout = '';
        child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(payload);
        const { code } = await exitOf(child, 20_000);
        tally.count(kind, code === 0 && stdout === '' && (await ping(socket)).ok, performance.now() - started);
      }
    }
    expectNothingChanged(e2e, d);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    expect(d.store.getLedgerEntry('A')?.source).toMatch(/^hook/);
    expectTranscriptsIntact(sandbox, before);
    recordFigure({ probe: 'bad input: hook payloads (relay)', test: TEST, runs: tally.runs(), passes: tally.passes(), measured: { ...tally.measured(), laterLimitToSwapMs: limit.ms } });
    expect(tally.failures()).toEqual([]);
  });

  it('the control socket (junk, wrong shapes, 10 and 20 MB lines, 500 concurrent connections, 500 idle ones): it keeps answering, a later real limit is still detected by hook', async () => {
    const { sandbox, d, socket, before, log } = await setUp('hook', false);
    const tally = badInputTallies();
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = createConnection(socket, () => { resolve(s); });
        s.once('error', reject);
      });
    const closedByDaemon = (s: Socket, timeoutMs: number): Promise<boolean> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => { resolve(false); }, timeoutMs);
        s.once('close', () => { clearTimeout(timer); resolve(true); });
        s.on('error', () => undefined);
      });

    // Junk lines: random bytes, control characters, half JSON, shapes that are not messages.
    for (let run = 0; run < 3; run++) {
      const s = await open();
      const started = performance.now();
      const lines = [
        ...Array.from({ length: 300 }, () => randomBytes(200).toString('latin1').replaceAll('\n', ' ')),
        '{"type":"hook"', '{"type":"request"}', '{"type":"hook","event":5,"payload":[]}', '[1,2,3]', 'null', '42', '"text"',
        '{"type":"statusline","pane":{"x":1},"payload":"\u0000"}', '{"type":"request","id":7,"command":["ping"]}', '{"type":"unknown","id":"x"}',
      ];
      s.write(lines.join('\n') + '\n');
      s.write(Buffer.from([0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x0a]));
      s.end();
      await closedByDaemon(s, 5000);
      tally.count('junk lines', (await ping(socket)).ok, performance.now() - started);
    }
    // A line of 10 MB and one of 20 MB: the connection is dropped past the 1 MiB cap, others go on.
    for (const size of [10 * MB, 10 * MB, 20 * MB]) {
      const s = await open();
      const started = performance.now();
      const closed = closedByDaemon(s, 15_000);
      s.write(Buffer.alloc(size, 0x61));
      s.write('\n');
      const wasClosed = await closed;
      const answered = (await ping(socket)).ok;
      tally.count(`${size / MB} MB line`, wasClosed && answered, performance.now() - started);
      s.destroy();
    }
    // 500 connections at once, each asking for a ping: every one answered.
    for (let run = 0; run < 2; run++) {
      const started = performance.now();
      const results = await Promise.allSettled(Array.from({ length: 500 }, () => sendRequest(socket, 'ping', null, { timeoutMs: 20_000 })));
      const answered = results.filter((r) => r.status === 'fulfilled' && (r.value as { pid?: number }).pid === process.pid).length;
      tally.count('500 concurrent pings', answered === 500, performance.now() - started);
    }
    // 500 connections held open and silent: a new client is still answered.
    const idle = await Promise.all(Array.from({ length: 500 }, () => open()));
    for (let run = 0; run < 3; run++) {
      const reply = await ping(socket);
      tally.count('ping beside 500 idle connections', reply.ok, reply.ms);
    }
    for (const s of idle) s.destroy();

    expectNothingChanged(e2e, d);
    expect(log.lines.filter((l) => l.level >= 50)).toEqual([]);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    expect(d.store.getLedgerEntry('A')?.source).toMatch(/^hook/);
    expectTranscriptsIntact(sandbox, before);
    recordFigure({ probe: 'bad input: control socket', test: TEST, runs: tally.runs(), passes: tally.passes(), measured: { ...tally.measured(), laterLimitToSwapMs: limit.ms } });
    expect(tally.failures()).toEqual([]);
  });

  it('HTTP (no token, wrong token, 10 MB and malformed bodies, junk hooks and statuslines, 50 slow clients): refused or ignored, the listener keeps answering, a later real limit is still detected by HTTP hook', async () => {
    const { sandbox, d, before } = await setUp('hook', true);
    const url = d.httpUrl ?? '';
    const hookToken = readHookToken(sandbox.config.stateDir) ?? '';
    expect(hookToken).not.toBe('');
    const pane = paneOf('web');
    const tally = badInputTallies();
    const post = async (kind: string, path: string, body: Buffer | string, auth: string | null, wanted: number) => {
      const started = performance.now();
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-claude-failover-pane': pane };
      if (auth !== null) headers.authorization = auth;
      const res = await fetch(`${url}${path}`, { method: 'POST', headers, body }).catch((err: unknown) => ({ status: -1, err }));
      if ('text' in res) await res.text();
      tally.count(kind, res.status === wanted, performance.now() - started);
    };
    const goodHook = JSON.stringify({ session_id: 's', transcript_path: '/t', cwd: '/p', hook_event_name: 'StopFailure', error: 'rate_limit' });
    for (let run = 0; run < 3; run++) {
      await post('no token (/api/switch)', '/api/switch', '{}', null, 401);
      await post('no token (/hooks)', '/hooks', goodHook, null, 401);
      await post('wrong token (/api/switch)', '/api/switch', '{}', 'Bearer wrong-token-wrong-token', 401);
      await post('wrong token (/hooks)', '/hooks', goodHook, `Bearer ${hookToken}x`, 401);
      await post('10 MB body (/hooks)', '/hooks', Buffer.alloc(10 * MB, 0x61), `Bearer ${hookToken}`, 413);
      await post('10 MB body (/api/switch)', '/api/switch', Buffer.alloc(10 * MB, 0x61), `Bearer ${SERVER_TOKEN}`, 413);
      await post('10 MB body without a token', '/api/switch', Buffer.alloc(10 * MB, 0x61), null, 401);
      for (const [kind, body] of [['not JSON', '{'], ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0x7b, 0x7d])], ['not an object', '[1]'], ['no event name', '{"session_id":"s"}']] as const) {
        await post(`malformed hook: ${kind}`, '/hooks', body, `Bearer ${hookToken}`, 400);
      }
      await post('malformed switch body', '/api/switch', '{"account":', `Bearer ${SERVER_TOKEN}`, 400);
      await post('switch body of the wrong type', '/api/switch', '{"account":42}', `Bearer ${SERVER_TOKEN}`, 400);
      // Well-formed envelopes with junk inside: taken (Claude Code waits for the answer) and ignored.
      await post('hook with wrong types', '/hooks', HOOK_JUNK['a limit of the wrong type'] ?? '', `Bearer ${hookToken}`, 200);
      await post('statusline with wrong types', '/statusline', JSON.stringify({ session_id: 5, rate_limits: { five_hour: { used_percentage: '99', resets_at: 'soon' }, seven_day: [] } }), `Bearer ${hookToken}`, 200);
      await post('statusline with absurd numbers', '/statusline', JSON.stringify({ session_id: 's', rate_limits: { five_hour: { used_percentage: -1e308, resets_at: 1e300 } } }), `Bearer ${hookToken}`, 200);
    }

    // 50 slow clients: headers one byte at a time, or a body that never comes. The listener answers others meanwhile.
    const port = Number(new URL(url).port);
    const slow: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < 50; i++) {
      const s = createConnection(port, '127.0.0.1');
      s.on('error', () => undefined);
      slow.push(s);
      const text = i % 2 === 0 ? `POST /hooks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${hookToken}\r\nX-Slow: ${'z'.repeat(200)}` : `POST /hooks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${hookToken}\r\nContent-Length: 100000\r\n\r\n{`;
      let at = 0;
      timers.push(setInterval(() => { if (at < text.length && !s.destroyed) s.write(text[at++] ?? ''); }, 100));
    }
    try {
      // For 5 s, while the slow clients trickle in (pacing the requests, not waiting on a race).
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        await delay(200);
        const started = performance.now();
        const res = await fetch(`${url}/healthz`);
        await res.text();
        tally.count('/healthz beside 50 slow clients', res.status === 200 && performance.now() - started < 2000, performance.now() - started);
      }
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of slow) s.destroy();
    }

    expectNothingChanged(e2e, d);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    expect(d.store.getLedgerEntry('A')?.source).toMatch(/^hook/);
    expectTranscriptsIntact(sandbox, before);
    recordFigure({ probe: 'bad input: HTTP', test: TEST, runs: tally.runs(), passes: tally.passes(), measured: { ...tally.measured(), laterLimitToSwapMs: limit.ms } });
    expect(tally.failures()).toEqual([]);
  });
});
