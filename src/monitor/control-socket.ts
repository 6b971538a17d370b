import { createConnection, createServer, type Socket } from 'node:net';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import type { Logger } from '../log.js';
import { FailoverError } from '../errors.js';

export type ControlEvent =
  | { readonly type: 'hook'; readonly event: string; readonly pane: string | null; readonly payload: unknown; readonly at: number }
  | { readonly type: 'statusline'; readonly pane: string | null; readonly payload: unknown; readonly at: number };

export interface ControlRequest {
  readonly type: 'request';
  readonly id: string;
  readonly command: string;
  readonly args?: unknown;
}

const MAX_LINE = 1024 * 1024;

function parseMessage(line: string): ControlEvent | ControlRequest | null {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    if (value.type === 'hook' && typeof value.event === 'string') return { type: 'hook', event: value.event, pane: typeof value.pane === 'string' ? value.pane : null, payload: value.payload ?? null, at: Number(value.at) || Date.now() };
    if (value.type === 'statusline') return { type: 'statusline', pane: typeof value.pane === 'string' ? value.pane : null, payload: value.payload ?? null, at: Number(value.at) || Date.now() };
    if (value.type === 'request' && typeof value.id === 'string' && typeof value.command === 'string') return { type: 'request', id: value.id, command: value.command, args: value.args };
  } catch {
    // garbage: dropped
  }
  return null;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => { resolve(false); });
  });
}

/**
 * The daemon's unix socket (mode 0600): hooks and the statusline send events; `switch`
 * and `status` send requests and get one reply line. Newline-delimited JSON.
 */
export async function startControlSocket(
  path: string,
  handlers: { onEvent(event: ControlEvent): void; onRequest(request: ControlRequest): Promise<unknown>; logger: Logger },
): Promise<{ close(): Promise<void> }> {
  if (existsSync(path)) {
    if (await socketAnswers(path)) throw new FailoverError('SOCKET_IN_USE', `a daemon already listens on ${path}`);
    unlinkSync(path); // left by a daemon that died
  }
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (buffer.length > MAX_LINE && !buffer.includes('\n')) {
        handlers.logger.warn({ bytes: buffer.length }, 'control message too long: dropped');
        socket.destroy();
        return;
      }
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const message = parseMessage(line);
        if (!message) {
          handlers.logger.debug('unreadable control message dropped');
          continue;
        }
        if (message.type === 'request') {
          handlers.onRequest(message).then(
            (result) => socket.write(JSON.stringify({ id: message.id, ok: true, result }) + '\n'),
            (err: unknown) => socket.write(JSON.stringify({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) }) + '\n'),
          );
        } else {
          try {
            handlers.onEvent(message);
          } catch (err) {
            handlers.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'control event handler failed');
          }
        }
      }
    });
  });
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
          resolve();
        });
      }),
  };
}

/** One request to the running daemon; DAEMON_NOT_RUNNING when nobody listens. */
export function sendRequest(path: string, command: string, args: unknown, options: { timeoutMs: number }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = Math.random().toString(36).slice(2);
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new FailoverError('DAEMON_TIMEOUT', `the daemon did not answer "${command}" within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    let buffer = '';
    socket.once('connect', () => socket.write(JSON.stringify({ type: 'request', id, command, args }) + '\n'));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      socket.end();
      const reply = JSON.parse(buffer.slice(0, newline)) as { ok: boolean; result?: unknown; error?: string };
      if (reply.ok) resolve(reply.result);
      else reject(new FailoverError('DAEMON_REFUSED', reply.error ?? 'the daemon refused the request'));
    });
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(connected ? new FailoverError('DAEMON_GONE', `the daemon went away while answering "${command}"`, { cause: err }) : new FailoverError('DAEMON_NOT_RUNNING', `no daemon listens on ${path}`, { cause: err }));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      // A no-op once a reply or an error has settled the promise.
      reject(new FailoverError('DAEMON_GONE', `the daemon went away while answering "${command}"`));
    });
  });
}
