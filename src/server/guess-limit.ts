import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';

/** Wrong credentials an address may present within WINDOW_MS before it is refused for BLOCK_MS. */
export const MAX_FAILURES = 10;
export const WINDOW_MS = 60_000;
export const BLOCK_MS = 60_000;
/** Addresses remembered at most: a flood from many addresses cannot grow the daemon without bound. */
const MAX_ADDRESSES = 10_000;

interface Record {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

/**
 * Slows guessing of `server.token`: an address that presents a wrong one (a bearer header,
 * the login form) MAX_FAILURES times within WINDOW_MS is answered 429 for BLOCK_MS, whatever
 * it sends meanwhile (a right guess included, so the block cannot be used to test guesses).
 * A request that presents no credential at all is not counted: a page opened before logging
 * in is not a guess. Nothing clears the count but time: a route that answers 200 whatever
 * bearer it is sent (`/healthz`) must not wipe an address's wrong guesses.
 */
export class GuessLimit {
  private readonly records = new Map<string, Record>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** How long `address` is still refused, in ms; 0 when it is not. */
  blockedFor(address: string): number {
    const record = this.records.get(address);
    return record ? Math.max(0, record.blockedUntil - this.now()) : 0;
  }

  failed(address: string): void {
    const at = this.now();
    let record = this.records.get(address);
    if (!record || at - record.windowStart > WINDOW_MS) {
      record = { failures: 0, windowStart: at, blockedUntil: record?.blockedUntil ?? 0 };
      this.remember(address, record);
    }
    record.failures += 1;
    if (record.failures >= MAX_FAILURES) {
      record.blockedUntil = at + BLOCK_MS;
      record.failures = 0;
      record.windowStart = at;
    }
  }

  private remember(address: string, record: Record): void {
    this.records.delete(address);
    if (this.records.size >= MAX_ADDRESSES) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
    this.records.set(address, record);
  }
}

function addressOf(c: Context): string {
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    return 'unknown'; // not served by Node's HTTP server (app.request in tests)
  }
  return address ? guesserOf(address) : 'unknown';
}

/**
 * Who is counted: an IPv4 address as it is, an IPv6 one by its /64 (one host is usually given
 * a whole /64, and would otherwise guess from a fresh address each time).
 */
export function guesserOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('%')[0]?.split('::') ?? [];
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => (g === '' ? '0' : g.toLowerCase().replace(/^0+(?=.)/, ''))).join(':')}::/64`;
}

/** Whether the request presents a credential a guess could be: a bearer header, or the login form. */
function presentsCredential(c: Context): boolean {
  return c.req.header('authorization') !== undefined || (c.req.method === 'POST' && c.req.path === '/login');
}

/**
 * The middleware: refuses a blocked address, and counts each 401 of a request that presented a
 * credential. `exempt` paths are neither counted nor refused.
 */
export function guessLimit(limit: GuessLimit, options: { readonly exempt?: readonly string[] } = {}): MiddlewareHandler {
  const exempt = new Set(options.exempt ?? []);
  return async (c, next) => {
    if (exempt.has(c.req.path) || !presentsCredential(c)) {
      await next();
      return undefined;
    }
    const address = addressOf(c);
    const blocked = limit.blockedFor(address);
    if (blocked > 0) {
      return c.json({ error: `too many wrong tokens from this address: try again in ${String(Math.ceil(blocked / 1000))} s` }, 429, { 'retry-after': String(Math.ceil(blocked / 1000)) });
    }
    await next();
    if (c.res.status === 401) limit.failed(address);
    return undefined;
  };
}
