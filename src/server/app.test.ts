import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createHttpApp, MAX_API_BODY, MAX_HOOK_BODY, startHttpServer, type HookDelivery, type HttpDeps, type StatuslineDelivery } from './app.js';
import { createMetrics } from './metrics.js';

function deps(overrides: Partial<HttpDeps> = {}): HttpDeps & { switches: (string | null)[] } {
  const switches: (string | null)[] = [];
  return {
    switches,
    health: () => ({ healthy: true, reasons: [], activeAccount: 'work' }),
    status: () => ({ activeAccount: 'work' }),
    requestSwitch: (account) => {
      switches.push(account);
      return Promise.resolve({ ok: true, message: 'switched' });
    },
    metrics: createMetrics().registry,
    token: 'a-token-of-sixteen-chars',
    ...overrides,
  };
}

/**
 * One request over a real socket with the headers exactly as given (Host included), its
 * body written as `chunks` and then left open unless `end`: the answer must come without
 * the rest of the body. Gives up after 20 s (a server waiting for the whole body).
 */
function rawRequest(url: string, options: { method?: string; path: string; headers?: Record<string, string>; chunks?: readonly string[]; end?: boolean }): Promise<{ status: number; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: Number(port), method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {}, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
      res.on('error', reject);
    });
    req.on('timeout', () => { req.destroy(new Error('no answer within 20 s: the server waits for the whole body')); });
    req.on('error', reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    if (options.end !== false) req.end();
  });
}

describe('HTTP app', () => {
  it('answers /healthz 200 when healthy and 503 with the reasons otherwise', async () => {
    expect(await (await createHttpApp(deps()).request('/healthz')).json()).toEqual({ status: 'ok', activeAccount: 'work' });
    const sick = await createHttpApp(deps({ health: () => ({ healthy: false, reasons: ['partial swap: flip back failed'], activeAccount: 'b' }) })).request('/healthz');
    expect(sick.status).toBe(503);
    expect(await sick.json()).toEqual({ status: 'unhealthy', activeAccount: 'b', reasons: ['partial swap: flip back failed'] });
  });

  it('changes state only with the right bearer token, and never without a configured token', async () => {
    const d = deps();
    const app = createHttpApp(d);
    const post = (headers: Record<string, string>) => app.request('/api/switch', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ account: 'spare' }) });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong-token-of-sixteen' })).status).toBe(401);
    expect((await post({ authorization: 'Bearer a-token-of-sixteen-chars' })).status).toBe(200);
    expect(d.switches).toEqual(['spare']);
    const open = createHttpApp(deps({ token: null }));
    const refused = await open.request('/api/switch', { method: 'POST', headers: { authorization: 'Bearer anything' } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toContain('server.token');
  });

  it('serves status, metrics and 404s over a real socket on 127.0.0.1', async () => {
    const server = await startHttpServer(createHttpApp(deps()), { host: '127.0.0.1', port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // With server.token set, the status is read with it (auth.ts); page.test.ts covers the rest.
      expect((await fetch(`${server.url}/api/status`)).status).toBe(401);
      expect(await (await fetch(`${server.url}/api/status`, { headers: { authorization: 'Bearer a-token-of-sixteen-chars' } })).json()).toEqual({ activeAccount: 'work' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      for (const name of ['claude_failover_swaps_total', 'claude_failover_limit_events_total', 'claude_failover_sessions', 'claude_failover_detection_latency_seconds']) expect(metrics).toContain(name);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  describe('POST /api/switch bodies', () => {
    const token = 'a-token-of-sixteen-chars';
    const post = (app: ReturnType<typeof createHttpApp>, body: string | undefined) =>
      app.request('/api/switch', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body }) });

    it('refuses malformed JSON and bodies of the wrong shape with a 400 that says why, and swaps nothing', async () => {
      const d = deps();
      const app = createHttpApp(d);
      for (const [body, says] of [
        ['{"account": "spare"', 'not JSON'],
        ['not json', 'not JSON'],
        ['[1, 2]', 'a JSON object'],
        ['"spare"', 'a JSON object'],
        ['null', 'a JSON object'],
        ['{"account": 5}', 'account'],
        ['{"account": ""}', 'account'],
        ['{"acount": "spare"}', 'acount'],
      ] as const) {
        const res = await post(app, body);
        expect(res.status, body).toBe(400);
        expect(((await res.json()) as { error: string }).error, body).toContain(says);
      }
      expect(d.switches).toEqual([]);
    });

    it('takes an account, null, an empty object or no body at all (the best available account)', async () => {
      const d = deps();
      const app = createHttpApp(d);
      for (const body of ['{"account": "spare"}', '{"account": null}', '{}', '', undefined]) expect((await post(app, body)).status, String(body)).toBe(200);
      expect(d.switches).toEqual(['spare', null, null, null, null]);
    });

    it('refuses a body over the cap with a 413 and swaps nothing', async () => {
      const d = deps();
      const res = await post(createHttpApp(d), JSON.stringify({ account: 'spare', pad: 'x'.repeat(MAX_API_BODY) }));
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: string }).error).toContain(`${MAX_API_BODY} bytes`);
      expect(d.switches).toEqual([]);
    });

    it('answers 413 over a real socket without waiting for the rest of a huge body', async () => {
      const d = deps();
      const server = await startHttpServer(createHttpApp(d), { host: '127.0.0.1', port: 0 });
      try {
        const headers = { host: new URL(server.url).host, 'content-type': 'application/json', authorization: `Bearer ${token}` };
        // 50 MB announced, a little sent, the rest never comes.
        const announced = await rawRequest(server.url, { method: 'POST', path: '/api/switch', headers: { ...headers, 'content-length': String(50 * 1024 * 1024) }, chunks: ['{"account":"spare","pad":"'], end: false });
        expect(announced.status).toBe(413);
        // Chunked, no length: just over the cap is read, then the answer, the stream still open.
        const chunked = await rawRequest(server.url, { method: 'POST', path: '/api/switch', headers: { ...headers, 'transfer-encoding': 'chunked' }, chunks: ['{"account":"spare","pad":"', 'x'.repeat(MAX_API_BODY)], end: false });
        expect(chunked.status).toBe(413);
        expect(d.switches).toEqual([]);
      } finally {
        await server.close();
      }
    });
  });

  describe('Host header (DNS rebinding)', () => {
    it('answers only Host names of this listener on every route: 421 otherwise, with nothing done', async () => {
      const hookToken = 'hook-token-0123456789abcdefghijklmnopqrstuvwxyz';
      const delivered: unknown[] = [];
      const d = deps({ token: null, hooks: { token: hookToken, deliver: (e) => delivered.push(e) } });
      const server = await startHttpServer(createHttpApp(d), { host: '127.0.0.1', port: 0 });
      try {
        const port = new URL(server.url).port;
        const routes = [
          { path: '/healthz' },
          { path: '/api/status' },
          { path: '/metrics' },
          { path: '/nope' },
          { path: '/api/switch', method: 'POST', chunks: ['{}'] },
          { path: '/hooks', method: 'POST', chunks: ['{"hook_event_name":"Stop"}'], headers: { authorization: `Bearer ${hookToken}` } },
          { path: '/statusline', method: 'POST', chunks: ['{}'], headers: { authorization: `Bearer ${hookToken}` } },
        ];
        for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost:${Number(port) + 1}`, '127.0.0.1']) {
          for (const route of routes) {
            const res = await rawRequest(server.url, { ...route, headers: { ...route.headers, host, 'content-type': 'application/json' } });
            expect(res.status, `${host} ${route.path}`).toBe(421);
            expect(res.body, `${host} ${route.path}`).toContain('Host');
          }
        }
        expect(delivered).toEqual([]);
        expect(d.switches).toEqual([]);
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
          const res = await rawRequest(server.url, { path: '/api/status', headers: { host } });
          expect(res.status, host).toBe(200);
        }
      } finally {
        await server.close();
      }
    });

    it('refuses a foreign Host in app.request too (no socket to read the port from)', async () => {
      const app = createHttpApp(deps({ token: null }));
      expect((await app.request('/api/status', { headers: { host: 'evil.example' } })).status).toBe(421);
      expect((await app.request('/api/status')).status).toBe(200);
    });
  });

  describe('POST /hooks (Claude Code\'s HTTP hooks)', () => {
    const hookToken = 'hook-token-0123456789abcdefghijklmnopqrstuvwxyz';
    const hookDeps = () => {
      const delivered: (HookDelivery | StatuslineDelivery)[] = [];
      return { delivered, app: createHttpApp(deps({ hooks: { token: hookToken, deliver: (e) => delivered.push(e) } })) };
    };
    const payload = { session_id: 's-1', transcript_path: '/t/s-1.jsonl', cwd: '/p', hook_event_name: 'StopFailure', error: 'rate_limit' };
    const post = (app: ReturnType<typeof createHttpApp>, body: string, headers: Record<string, string> = {}) =>
      app.request('/hooks', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hookToken}`, 'x-claude-failover-pane': '%7', ...headers }, body });

    it('hands a good hook to the monitor as the control socket would, with the pane from its header', async () => {
      const { app, delivered } = hookDeps();
      const res = await post(app, JSON.stringify(payload));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
      expect(delivered).toMatchObject([{ type: 'hook', event: 'StopFailure', pane: '%7', payload }]);
      expect(typeof delivered[0]?.at).toBe('number');
      // Outside tmux the header interpolates to nothing: no pane, still delivered.
      await post(app, JSON.stringify({ ...payload, hook_event_name: 'Stop' }), { 'x-claude-failover-pane': '' });
      await post(app, JSON.stringify({ ...payload, hook_event_name: 'Stop' }), { 'x-claude-failover-pane': '$(touch x)' });
      expect(delivered.slice(1).map((d) => d.pane)).toEqual([null, null]);
    });

    it('refuses a missing or wrong token (401), whatever its length, and changes nothing', async () => {
      const { app, delivered } = hookDeps();
      for (const authorization of ['', 'Bearer ', 'Bearer wrong', `Bearer ${hookToken}x`, `Bearer ${hookToken.slice(0, -1)}`, hookToken, 'Bearer a-token-of-sixteen-chars']) {
        expect((await post(app, JSON.stringify(payload), { authorization })).status, authorization).toBe(401);
      }
      expect(delivered).toEqual([]);
    });

    it('refuses bad bodies with a 4xx: not JSON, not an object, no event name, over the cap', async () => {
      const { app, delivered } = hookDeps();
      expect((await post(app, 'not json')).status).toBe(400);
      expect((await post(app, '[1,2]')).status).toBe(400);
      expect((await post(app, JSON.stringify({ session_id: 's' }))).status).toBe(400);
      expect((await post(app, JSON.stringify({ hook_event_name: 'Stop; rm -rf /' }))).status).toBe(400);
      const huge = JSON.stringify({ ...payload, blob: 'x'.repeat(MAX_HOOK_BODY) });
      expect((await post(app, huge)).status).toBe(413);
      expect(delivered).toEqual([]);
    });

    it('answers 404 when the daemon takes no HTTP hooks', async () => {
      const res = await createHttpApp(deps()).request('/hooks', { method: 'POST', headers: { authorization: `Bearer ${hookToken}` }, body: JSON.stringify(payload) });
      expect(res.status).toBe(404);
    });

    it('takes a hook over a real socket on 127.0.0.1, a chunked body over the cap included', async () => {
      const { app, delivered } = hookDeps();
      const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
      try {
        const headers = { 'content-type': 'application/json', authorization: `Bearer ${hookToken}`, 'x-claude-failover-pane': '%3' };
        expect((await fetch(`${server.url}/hooks`, { method: 'POST', headers, body: JSON.stringify(payload) })).status).toBe(200);
        const chunks = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 3; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(MAX_HOOK_BODY / 2)));
            controller.close();
          },
        });
        const big = await fetch(`${server.url}/hooks`, { method: 'POST', headers, body: chunks, duplex: 'half' });
        expect(big.status).toBe(413);
        expect(delivered.map((d) => d.pane)).toEqual(['%3']);
      } finally {
        await server.close();
      }
    });
  });
});
