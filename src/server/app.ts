import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { Registry } from 'prom-client';

export interface HealthReport {
  readonly healthy: boolean;
  readonly reasons: readonly string[];
  readonly activeAccount: string | null;
}

export interface HttpDeps {
  health(): Promise<HealthReport> | HealthReport;
  status(): unknown;
  requestSwitch(account: string | null): Promise<{ ok: boolean; message: string }>;
  readonly metrics?: Registry;
  readonly token: string | null;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** /healthz, /api/status, POST /api/switch (token required), /metrics. */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    const health = await deps.health();
    return health.healthy
      ? c.json({ status: 'ok', activeAccount: health.activeAccount }, 200)
      : c.json({ status: 'unhealthy', activeAccount: health.activeAccount, reasons: health.reasons }, 503);
  });
  app.get('/api/status', async (c) => c.json(await deps.status()));
  app.post('/api/switch', async (c) => {
    if (deps.token === null) return c.json({ error: 'state-changing requests are refused: set server.token in the config' }, 403);
    if (!tokenMatches(c.req.header('authorization'), deps.token)) return c.json({ error: 'missing or wrong bearer token' }, 401);
    const body = (await c.req.json().catch(() => ({}))) as { account?: unknown };
    const account = typeof body.account === 'string' && body.account !== '' ? body.account : null;
    const result = await deps.requestSwitch(account);
    return c.json(result, result.ok ? 200 : 409);
  });
  app.get('/metrics', async (c) => {
    if (!deps.metrics) return c.text('', 404);
    return c.text(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType });
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((_err, c) => c.json({ error: 'internal error' }, 500));
  return app;
}

export async function startHttpServer(app: Hono, listen: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => { done(); });
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
