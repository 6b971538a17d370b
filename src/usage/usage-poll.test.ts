import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { configFromObject } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../log.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { pollUsageOnce, startUsagePoll, usageUrl } from './usage-poll.js';

const now = new Date('2026-11-24T12:00:00Z');
const HOUR = 3600_000;
const tokens = { work: 'sk-ant-oat01-work-secret', spare: 'sk-ant-oat01-spare-secret', old: 'sk-ant-oat01-old-secret' };

/** A stand-in for the usage endpoint: answers per bearer token, and remembers every request. */
interface Seen { readonly method: string | undefined; readonly url: string | undefined; readonly headers: IncomingHttpHeaders }
let server: Server;
let base: string;
let seen: Seen[];
let answers: Record<string, { status: number; body: unknown }>;

let dir: string;
let store: Store;
let config: Config;
let logLines: string[];
const logger = () =>
  createLogger({
    pretty: false,
    level: 'debug',
    destination: new Writable({ write: (chunk: Buffer, _enc, done) => { logLines.push(chunk.toString()); done(); } }),
  });

function login(home: string, token: string, expiresAt: number): string {
  mkdirSync(home, { recursive: true });
  const file = join(home, '.credentials.json');
  writeFileSync(file, JSON.stringify({ claudeAiOauth: { accessToken: token, refreshToken: `${token}-refresh`, expiresAt, scopes: ['user:inference', 'user:profile'], subscriptionType: 'max' } }), { mode: 0o600 });
  return file;
}

beforeEach(async () => {
  dir = await makeTempDir('cf-usage-poll');
  seen = [];
  answers = {};
  logLines = [];
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const answer = req.url === '/api/oauth/usage' ? answers[token] : undefined;
    res.writeHead(answer?.status ?? 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer?.body ?? { type: 'error', error: { type: 'authentication_error' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const result = configFromObject(
    {
      home: dir,
      accounts: [{ name: 'work', home: `${dir}/.claude-work` }, { name: 'spare', home: `${dir}/.claude-spare` }, { name: 'old', home: `${dir}/.claude-old` }],
      claude: { env: { ANTHROPIC_BASE_URL: `${base}/` } },
      monitor: { usagePollMs: 60_000 },
    },
    { baseDir: dir },
  );
  if (!result.ok) throw new Error(result.report);
  config = result.config;
  store = openStore(join(dir, 'state'), { now: () => now });
});
afterEach(async () => {
  store.close();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  await removeTempDir(dir);
});

describe('usage poll', () => {
  it('reads each account not in use with its own token, records its windows, and never touches a credential', async () => {
    const files = {
      work: login(`${dir}/.claude-work`, tokens.work, now.getTime() + HOUR),
      spare: login(`${dir}/.claude-spare`, tokens.spare, now.getTime() + HOUR),
      old: login(`${dir}/.claude-old`, tokens.old, now.getTime() - HOUR),
    };
    const before = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, { bytes: readFileSync(file), mtimeMs: statSync(file).mtimeMs, mode: statSync(file).mode }]));
    answers[tokens.spare] = {
      status: 200,
      body: {
        five_hour: { utilization: 37, resets_at: '2026-11-24T14:00:00.000Z' },
        seven_day: { utilization: 81, resets_at: '2026-11-28T09:00:00+00:00' },
        seven_day_opus: null,
        extra_usage: { is_enabled: false, monthly_limit: null, used_credits: null, utilization: null },
      },
    };
    expect(usageUrl(config)).toBe(`${base}/api/oauth/usage`);

    const results = await pollUsageOnce({ config, store, logger: logger(), now: () => now, activeAccount: () => 'work' });

    // The active account is not asked (the statusline has its usage); the expired token is never sent.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/api/oauth/usage', headers: { authorization: `Bearer ${tokens.spare}`, 'anthropic-beta': 'oauth-2025-04-20' } });
    expect(results.get('old')).toMatchObject({ ok: false, reason: 'expired' });
    expect(results.has('work')).toBe(false);
    expect(store.usageReadings('spare', 'five_hour').map((r) => [r.percent, r.resetsAt, r.source])).toEqual([[37, new Date('2026-11-24T14:00:00Z'), 'poll']]);
    expect(store.usageReadings('spare', 'seven_day').map((r) => [r.percent, r.resetsAt])).toEqual([[81, new Date('2026-11-28T09:00:00Z')]]);
    expect(store.getLedgerEntry('spare')).toMatchObject({ usagePercent: 81, usageResetsAt: new Date('2026-11-28T09:00:00Z') });
    expect(store.usageReadings('old', 'five_hour')).toEqual([]);

    for (const [name, file] of Object.entries(files)) {
      expect(readFileSync(file), name).toEqual(before[name]?.bytes);
      expect(statSync(file).mtimeMs, name).toBe(before[name]?.mtimeMs);
      expect(statSync(file).mode, name).toBe(before[name]?.mode);
    }
    const log = logLines.join('');
    expect(log).toContain('"reason":"expired"');
    for (const token of Object.values(tokens)) expect(log).not.toContain(token);
  });

  it('records nothing from a refusal, an answer without windows, or a home without a login', async () => {
    login(`${dir}/.claude-spare`, tokens.spare, now.getTime() + HOUR);
    login(`${dir}/.claude-old`, tokens.old, now.getTime() + HOUR);
    answers[tokens.spare] = { status: 429, body: { type: 'error', error: { type: 'rate_limit_error' } } };
    answers[tokens.old] = { status: 200, body: { five_hour: 'soon' } };
    const results = await pollUsageOnce({ config, store, logger: logger(), now: () => now, activeAccount: () => null });
    expect(Object.fromEntries([...results].map(([name, r]) => [name, r.ok ? 'ok' : r.reason]))).toEqual({ work: 'no-login', spare: 'refused', old: 'unreadable' });
    expect(store.getLedger()).toEqual([]);
    expect(seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${tokens.spare}`, `Bearer ${tokens.old}`]);
  });

  it('runs a pass at start and stops cleanly', async () => {
    login(`${dir}/.claude-spare`, tokens.spare, now.getTime() + HOUR);
    answers[tokens.spare] = { status: 200, body: { five_hour: { utilization: 12, resets_at: null }, seven_day: null } };
    const poll = startUsagePoll({ config, store, logger: logger(), now: () => now, activeAccount: () => 'work', everyMs: 60_000 });
    await poll.stop();
    expect(store.usageReadings('spare', 'five_hour').map((r) => [r.percent, r.resetsAt])).toEqual([[12, null]]);
  });
});
