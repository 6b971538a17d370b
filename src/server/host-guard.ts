import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';

/** Names every loopback listener answers to. */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** `name` and `port` of a Host header (`[::1]:8080`, `localhost`), or null when it is not one. */
function splitHost(host: string): { name: string; port: number | null } | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/i.exec(host);
  if (!match?.[1]) return null;
  return { name: match[1].toLowerCase(), port: match[2] === undefined ? null : Number(match[2]) };
}

/** An address as it stands in a Host header: IPv6 in brackets, an IPv4-mapped one as IPv4. */
function asHostName(address: string): string {
  const plain = address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();
  return plain.includes(':') ? `[${plain}]` : plain;
}

/**
 * Refuses (421) a request whose Host is not this listener: a web page whose name an attacker
 * has pointed at 127.0.0.1 (DNS rebinding) reaches the port, but its requests carry that name.
 * Allowed: localhost, 127.0.0.1, [::1], `listenHost` and the address the client connected to,
 * with the port the request came in on (when there is a socket to read it from).
 */
export function hostGuard(listenHost: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('host') ?? new URL(c.req.url).host;
    const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket;
    const host = splitHost(header);
    const names = new Set([...LOOPBACK, ...[listenHost, socket?.localAddress].flatMap((a) => (a ? [asHostName(a)] : []))]);
    const portOk = host !== null && (socket?.localPort === undefined || (host.port ?? 80) === socket.localPort);
    if (host === null || !names.has(host.name) || !portOk) {
      const shown = JSON.stringify(header.slice(0, 100));
      return c.json({ error: `Host ${shown} is not this listener: only localhost, 127.0.0.1, [::1] or the listen address, with the listener's port, are answered` }, 421);
    }
    await next();
    return undefined;
  };
}
