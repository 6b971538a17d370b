import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * Who may read and who may change, behind `server.token`.
 *
 * - A script sends `Authorization: Bearer <token>`.
 * - A browser logs in once (`POST /login` with the token) and gets a session cookie: HttpOnly,
 *   SameSite=Strict, signed with a key derived from the token (so a new token logs every
 *   browser out, and a restart does not). Its state-changing requests must also come from
 *   this origin (`Origin`, `Sec-Fetch-Site`) and carry the CSRF token the page was given:
 *   a form on another origin — even another port of 127.0.0.1, which is the *same site*
 *   to a browser, so SameSite alone does not stop it — can set neither.
 * - Without a token, reading is left to the Host guard (loopback names only) and every
 *   state-changing request is refused.
 */

export const SESSION_COOKIE = 'cf_session';
export const CSRF_HEADER = 'x-csrf-token';
/** How long a browser stays logged in. */
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;

export type Caller = { readonly via: 'bearer' | 'session' | 'open' } | { readonly via: 'none' };

/** Equal strings, compared as SHA-256 digests: constant time, whatever the lengths. */
export function sameSecret(given: string, wanted: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(wanted).digest());
}

/** The token of an `Authorization: Bearer <token>` header, else null. */
export const bearerOf = (header: string | undefined): string | null => /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1] ?? null;

function sign(token: string, purpose: string, value: string): string {
  const key = createHash('sha256').update(`claude-failover page key\0${token}`).digest();
  return createHmac('sha256', key).update(`${purpose}\0${value}`).digest('base64url');
}

/** A session cookie value: its expiry and a signature over it. */
export function newSession(token: string, nowMs: number): string {
  const expires = String(nowMs + SESSION_MAX_AGE_S * 1000);
  return `${expires}.${sign(token, 'session', expires)}`;
}

function sessionValid(token: string, value: string | undefined, nowMs: number): boolean {
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!match?.[1] || !match[2]) return false;
  return sameSecret(match[2], sign(token, 'session', match[1])) && Number(match[1]) > nowMs;
}

/** The CSRF token for a session: the page gets it in a meta tag, its requests send it back. */
export function csrfFor(token: string, session: string): string {
  return sign(token, 'csrf', session);
}

/** How this request is authorized to read (`none`: not at all). */
export function callerOf(c: Context, token: string | null, nowMs = Date.now()): Caller {
  if (token === null) return { via: 'open' };
  const bearer = bearerOf(c.req.header('authorization'));
  if (bearer !== null) return sameSecret(bearer, token) ? { via: 'bearer' } : { via: 'none' };
  return sessionValid(token, getCookie(c, SESSION_COOKIE), nowMs) ? { via: 'session' } : { via: 'none' };
}

/** The session cookie this request carries, when it is valid. */
export function sessionOf(c: Context, token: string | null, nowMs = Date.now()): string | null {
  if (token === null) return null;
  const value = getCookie(c, SESSION_COOKIE);
  return value !== undefined && sessionValid(token, value, nowMs) ? value : null;
}

/**
 * The request comes from a page of this origin: `Origin`, when sent, names the host the
 * request was sent to (the Host guard has vetted that name), and `Sec-Fetch-Site`, when
 * sent, says same-origin (or none: typed by the user). A browser sends both on a POST.
 */
export function sameOrigin(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = c.req.header('origin');
  if (origin === undefined) return site !== undefined || c.req.header('cookie') === undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false; // "null" (a sandboxed frame, a file) and junk
  }
  return originHost.toLowerCase() === (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
}

const READS = new Set(['GET', 'HEAD']);

/**
 * Guards `/api/*`. Reads: open without a token; with one, the bearer token or a session.
 * Changes: refused without a token; the bearer token; or a session from this origin with
 * its CSRF token.
 */
export function apiGuard(token: string | null): MiddlewareHandler {
  return async (c, next) => {
    const caller = callerOf(c, token);
    if (READS.has(c.req.method)) {
      if (caller.via === 'none') return c.json({ error: 'log in at /login, or send Authorization: Bearer <server.token>' }, 401);
      await next();
      return undefined;
    }
    if (token === null) return c.json({ error: 'state-changing requests are refused: set server.token in the config' }, 403);
    if (caller.via === 'none') return c.json({ error: 'missing or wrong bearer token' }, 401);
    if (caller.via === 'session') {
      const session = sessionOf(c, token) ?? '';
      if (!sameOrigin(c)) return c.json({ error: 'refused: a request from another origin' }, 403);
      if (!sameSecret(c.req.header(CSRF_HEADER) ?? '', csrfFor(token, session))) return c.json({ error: `refused: missing or wrong ${CSRF_HEADER} header` }, 403);
    }
    await next();
    return undefined;
  };
}

export function setSessionCookie(c: Context, value: string): void {
  setCookie(c, SESSION_COOKIE, value, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: SESSION_MAX_AGE_S });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { httpOnly: true, sameSite: 'Strict', path: '/' });
}
