import { describe, expect, it } from 'vitest';
import { createHttpApp, type HttpDeps } from './app.js';
import { SESSION_COOKIE } from './auth.js';

const TOKEN = 'a-token-of-sixteen-chars';

function deps(overrides: Partial<HttpDeps> = {}): HttpDeps & { switches: (string | null)[] } {
  const switches: (string | null)[] = [];
  return {
    switches,
    health: () => ({ healthy: true, reasons: [], activeAccount: 'work' }),
    status: () => ({ activeAccount: 'work', generatedAt: new Date(0).toISOString() }),
    requestSwitch: (account) => {
      switches.push(account);
      return Promise.resolve({ ok: true, message: 'switched' });
    },
    token: TOKEN,
    ...overrides,
  };
}

/** Logs in through the form and gives the session cookie and the page's CSRF token. */
async function logIn(app: ReturnType<typeof createHttpApp>): Promise<{ cookie: string; csrf: string }> {
  const res = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', 'sec-fetch-site': 'same-origin' }, body: `token=${TOKEN}` });
  expect(res.status).toBe(303);
  const setCookie = res.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).toMatch(/SameSite=Strict/);
  const cookie = setCookie.split(';')[0] ?? '';
  expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
  const page = await (await app.request('/', { headers: { cookie } })).text();
  const csrf = /<meta name="cf-csrf" content="([^"]+)">/.exec(page)?.[1] ?? '';
  expect(csrf).not.toBe('');
  return { cookie, csrf };
}

/** The first `status` event of `/api/events`, then the stream is dropped. */
async function firstStatusEvent(res: Response): Promise<unknown> {
  const body = res.body as ReadableStream<Uint8Array> | null;
  const reader = body?.getReader();
  if (!reader) throw new Error('no body');
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before a status event: ${text}`);
      text += new TextDecoder().decode(value);
      const match = /event: status\ndata: (.*)\n/.exec(text);
      if (match?.[1]) return JSON.parse(match[1]);
    }
  } finally {
    await reader.cancel();
  }
}

describe('status page and its guard (server.token set)', () => {
  it('reads nothing without the token: the page sends to /login, the API and the event stream answer 401', async () => {
    const app = createHttpApp(deps());
    const page = await app.request('/');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    for (const path of ['/api/status', '/api/events']) expect((await app.request(path)).status, path).toBe(401);
    const wrong = await app.request('/api/status', { headers: { authorization: 'Bearer wrong-token-of-sixteen' } });
    expect(wrong.status).toBe(401);
    const forged = await app.request('/api/status', { headers: { cookie: `${SESSION_COOKIE}=99999999999999.${'A'.repeat(43)}` } });
    expect(forged.status).toBe(401);
    expect((await app.request('/login')).status).toBe(200);
  });

  it('takes the bearer token for the page, the API and the event stream', async () => {
    const app = createHttpApp(deps());
    const authorization = `Bearer ${TOKEN}`;
    expect((await app.request('/', { headers: { authorization } })).status).toBe(200);
    expect(await (await app.request('/api/status', { headers: { authorization } })).json()).toMatchObject({ activeAccount: 'work' });
    const events = await app.request('/api/events', { headers: { authorization } });
    expect(events.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(await firstStatusEvent(events)).toEqual({ status: { activeAccount: 'work', generatedAt: new Date(0).toISOString() }, tasks: null });
  });

  it('logs a browser in with the token (a wrong one is refused), and out', async () => {
    const app = createHttpApp(deps());
    const wrong = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' }, body: 'token=not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const { cookie } = await logIn(app);
    expect((await app.request('/api/status', { headers: { cookie } })).status).toBe(200);
    const out = await app.request('/logout', { method: 'POST', headers: { cookie, origin: 'http://localhost' } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`));
  });

  it('refuses a login posted from another origin', async () => {
    const app = createHttpApp(deps());
    const res = await app.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-site' }, body: `token=${TOKEN}` });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('changes state from a logged-in page only from this origin and with its CSRF token', async () => {
    const d = deps();
    const app = createHttpApp(d);
    const { cookie, csrf } = await logIn(app);
    const post = (headers: Record<string, string>) => app.request('/api/switch', { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ account: 'spare' }) });
    expect((await post({})).status).toBe(403); // no Origin, no Sec-Fetch-Site
    expect((await post({ origin: 'http://127.0.0.1:9999', 'x-csrf-token': csrf })).status).toBe(403);
    expect((await post({ origin: 'http://localhost', 'sec-fetch-site': 'same-site', 'x-csrf-token': csrf })).status).toBe(403);
    expect((await post({ origin: 'null', 'x-csrf-token': csrf })).status).toBe(403);
    expect((await post({ origin: 'http://localhost' })).status).toBe(403);
    expect((await post({ origin: 'http://localhost', 'x-csrf-token': `${csrf}x` })).status).toBe(403);
    expect(d.switches).toEqual([]);
    expect((await post({ origin: 'http://localhost', 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrf })).status).toBe(200);
    expect(d.switches).toEqual(['spare']);
  });

  it('serves the page with a policy that allows only its own files', async () => {
    const app = createHttpApp(deps());
    const res = await app.request('/', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script>|https?:\/\//);
    for (const asset of ['/assets/page.css', '/assets/page.js']) expect((await app.request(asset)).status, asset).toBe(200);
  });
});

describe('status page without server.token', () => {
  it('is readable, says actions are off, and refuses every change', async () => {
    const d = deps({ token: null });
    const app = createHttpApp(d);
    const page = await app.request('/');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="actions-off"');
    expect(html).toContain('<meta name="cf-actions" content="off">');
    expect((await app.request('/api/status')).status).toBe(200);
    const res = await app.request('/api/switch', { method: 'POST', headers: { origin: 'http://localhost', 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toContain('server.token');
    expect(d.switches).toEqual([]);
  });
});
