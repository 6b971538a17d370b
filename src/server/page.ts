import type { Context, Hono } from 'hono';
import { cappedBody } from './body.js';
import { callerOf, clearSessionCookie, csrfFor, newSession, sameOrigin, sameSecret, sessionOf, setSessionCookie } from './auth.js';
import { mountEvents } from './events.js';
import { loginPageHtml, statusPageHtml } from './page/html.js';
import { PAGE_CSS } from './page/style.js';
import { PAGE_SCRIPT } from './page/script.js';

export interface StatusPageDeps {
  /** `server.token`; null: the page is read-only. */
  readonly token: string | null;
  /** The status report (`/api/status`). */
  status(): unknown;
  /** The task queue's counts and latest tasks; absent, the page says the queue is not available. */
  tasks?(): Promise<unknown>;
  /** How often the event stream reads the status (default 500 ms). */
  readonly pollMs?: number;
}

/** Longest login form accepted. */
const MAX_LOGIN_BODY = 4096;

/** Nothing but this origin's own files: no inline script, no frame, no form posted elsewhere. */
// A no-referrer policy would also make Chromium send `Origin: null` with the page's own posts.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function page(c: Context, html: string, status: 200 | 401 | 403 = 200) {
  return c.html(html, status, PAGE_HEADERS);
}

/**
 * The status page (`/`), its assets, the login (`/login`, `/logout`) and the event stream
 * (`/api/events`). Mounted after the Host guard and the `/api/*` guard (auth.ts).
 */
export function mountStatusPage(app: Hono, deps: StatusPageDeps): void {
  const { token } = deps;
  const asset = (body: string, type: string) => (c: Context) => c.body(body, 200, { 'content-type': type, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
  app.get('/assets/page.css', asset(PAGE_CSS, 'text/css; charset=utf-8'));
  app.get('/assets/page.js', asset(PAGE_SCRIPT, 'text/javascript; charset=utf-8'));

  app.get('/', (c) => {
    const caller = callerOf(c, token);
    if (caller.via === 'none') return c.redirect('/login', 303);
    const session = sessionOf(c, token);
    return page(c, statusPageHtml({
      auth: caller.via,
      csrf: token !== null && session !== null ? csrfFor(token, session) : '',
      actions: token !== null,
    }));
  });

  app.get('/login', (c) => {
    if (token === null || callerOf(c, token).via !== 'none') return c.redirect('/', 303);
    return page(c, loginPageHtml(null));
  });
  app.post('/login', cappedBody(MAX_LOGIN_BODY), async (c) => {
    if (token === null) return c.redirect('/', 303);
    // A login posted from another origin would put the victim in the attacker's session.
    if (!sameOrigin(c)) return page(c, loginPageHtml('Refused: the login came from another origin.'), 403);
    const form: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
    const given = typeof form.token === 'string' ? form.token.trim() : '';
    if (!sameSecret(given, token)) return page(c, loginPageHtml('That is not the server.token of this daemon.'), 401);
    setSessionCookie(c, newSession(token, Date.now()));
    return c.redirect('/', 303);
  });
  app.post('/logout', (c) => {
    if (!sameOrigin(c)) return c.json({ error: 'refused: a request from another origin' }, 403);
    clearSessionCookie(c);
    return c.redirect('/login', 303);
  });

  mountEvents(app, {
    // A queue out of reach (the fleet's database down) leaves the rest of the page live: it shows the host degraded.
    snapshot: async () => ({ status: await deps.status(), tasks: deps.tasks ? await deps.tasks().catch(() => null) : null }),
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
  });
}
