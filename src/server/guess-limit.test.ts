import { describe, expect, it } from 'vitest';
import { createHttpApp, startHttpServer, type HttpDeps } from './app.js';
import { BLOCK_MS, GuessLimit, guesserOf, MAX_FAILURES, WINDOW_MS } from './guess-limit.js';

const TOKEN = 'a-token-of-sixteen-chars';

function deps(limit: GuessLimit): HttpDeps {
  return {
    health: () => ({ healthy: true, reasons: [], activeAccount: 'work' }),
    status: () => ({ activeAccount: 'work' }),
    requestSwitch: () => Promise.resolve({ ok: true, message: 'switched' }),
    token: TOKEN,
    hooks: { token: 'the-hook-token-0123456789abcdef', deliver: () => undefined },
    guessLimit: limit,
  };
}

describe('GuessLimit', () => {
  it('blocks an address for BLOCK_MS once it has failed MAX_FAILURES times within WINDOW_MS, and forgets failures spread wider', () => {
    let now = 1_000_000;
    const limit = new GuessLimit(() => now);
    for (let i = 1; i < MAX_FAILURES; i++) limit.failed('a');
    expect(limit.blockedFor('a')).toBe(0);
    limit.failed('b');
    limit.failed('a');
    expect(limit.blockedFor('a')).toBe(BLOCK_MS);
    expect(limit.blockedFor('b')).toBe(0);
    now += BLOCK_MS;
    expect(limit.blockedFor('a')).toBe(0);
    // Slower than MAX_FAILURES per window: never blocked.
    for (let i = 0; i < 3 * MAX_FAILURES; i++) {
      limit.failed('slow');
      now += WINDOW_MS / (MAX_FAILURES - 1);
    }
    expect(limit.blockedFor('slow')).toBe(0);
  });

  it('counts an IPv6 caller by its /64, and an IPv4-mapped one as the IPv4 address', () => {
    expect(guesserOf('203.0.113.7')).toBe('203.0.113.7');
    expect(guesserOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(guesserOf('2001:db8:aa:bb:1:2:3:4')).toBe('2001:db8:aa:bb::/64');
    expect(guesserOf('2001:0db8:00aa:00bb::9')).toBe('2001:db8:aa:bb::/64');
    expect(guesserOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(guesserOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(guesserOf('::1')).toBe('0:0:0:0::/64');
  });
});

describe('guessing server.token over HTTP (a real listener on 127.0.0.1)', () => {
  it('answers 429 with Retry-After after MAX_FAILURES wrong tokens (bearer or login form), the right one included, until the block ends; hooks and callers without a token are not counted', async () => {
    let now = 5_000_000;
    const server = await startHttpServer(createHttpApp(deps(new GuessLimit(() => now))), { host: '127.0.0.1', port: 0 });
    try {
      const switchWith = (token: string | null) => fetch(`${server.url}/api/switch`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
      // Not a guess: no credential at all, or a wrong hook token (random and long: not worth guessing).
      for (let i = 0; i < 2 * MAX_FAILURES; i++) {
        expect((await switchWith(null)).status).toBe(401);
        expect((await fetch(`${server.url}/hooks`, { method: 'POST', headers: { authorization: 'Bearer wrong-hook-token', 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
      }
      expect((await switchWith(TOKEN)).status).toBe(200);
      const login = (token: string) => fetch(`${server.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url }, body: `token=${token}` });
      for (let i = 1; i < MAX_FAILURES; i++) expect((await (i % 2 === 0 ? login(`wrong-guess-${String(i)}-padding`) : switchWith(`wrong-guess-${String(i)}-padding`))).status).toBe(401);
      // A route that answers 200 whatever bearer it is sent (and the right token itself) wipes no wrong guess.
      expect((await fetch(`${server.url}/healthz`, { headers: { authorization: 'Bearer anything-at-all' } })).status).toBe(200);
      expect((await switchWith(TOKEN)).status).toBe(200);
      expect((await switchWith('the-last-wrong-guess-x')).status).toBe(401);
      const blocked = await switchWith(TOKEN);
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toBe(String(BLOCK_MS / 1000));
      expect(await blocked.json()).toEqual({ error: `too many wrong tokens from this address: try again in ${String(BLOCK_MS / 1000)} s` });
      expect((await login(TOKEN)).status).toBe(429);
      // The hooks go on meanwhile: Claude Code's events are not held up by someone guessing.
      expect((await fetch(`${server.url}/hooks`, { method: 'POST', headers: { authorization: 'Bearer the-hook-token-0123456789abcdef', 'content-type': 'application/json' }, body: '{"hook_event_name":"Stop"}' })).status).toBe(200);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      now += BLOCK_MS;
      expect((await switchWith(TOKEN)).status).toBe(200);
      expect((await login(TOKEN)).status).toBe(303);
    } finally {
      await server.close();
    }
  });
});
