import { describe, expect, it } from 'vitest';
import { createHttpApp, startHttpServer, type HttpDeps } from './app.js';
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
});
