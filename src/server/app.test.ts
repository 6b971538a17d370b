import { describe, expect, it } from 'vitest';
import { createHttpApp, MAX_HOOK_BODY, startHttpServer, type HookDelivery, type HttpDeps, type StatuslineDelivery } from './app.js';
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
      expect(await (await fetch(`${server.url}/api/status`)).json()).toEqual({ activeAccount: 'work' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      for (const name of ['claude_failover_swaps_total', 'claude_failover_limit_events_total', 'claude_failover_sessions', 'claude_failover_detection_latency_seconds']) expect(metrics).toContain(name);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
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
