import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Socket } from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { parsePayload } from '../claude/payloads.js';
import { errnoCode, FailoverError } from '../errors.js';

/** What hooks and the statusline send: one line each, no reply. */
export type ControlEvent =
  | { readonly type: 'hook'; readonly event: string; readonly pane: string | null; readonly payload: unknown; readonly at: number }
  | { readonly type: 'statusline'; readonly pane: string | null; readonly payload: unknown; readonly at: number };

/** What `switch`, `status` and `ping` send; answered with one line `{id, ok, result | error}`. */
export interface ControlRequest {
  readonly type: 'request';
  readonly id: string;
  readonly command: string;
  readonly args?: unknown;
}

export type ControlReply = { readonly id: string; readonly ok: true; readonly result: unknown } | { readonly id: string; readonly ok: false; readonly error: string };

export interface ControlHandlers {
  onEvent(event: ControlEvent): void;
  /** Resolves to the reply's `result`; a rejection becomes `{ok: false, error: <message>}`. */
  onRequest(request: ControlRequest): Promise<unknown>;
  logger: Logger;
}

/** Longest accepted line, in bytes. A longer one is dropped and its connection closed. */
export const MAX_CONTROL_LINE = 1024 * 1024;
const PROBE_TIMEOUT_MS = 1000;

const pane = z.string().nullable().optional().catch(null);
const at = z.number().refine(Number.isFinite).optional().catch(undefined);
const controlMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hook'), event: z.string(), pane, payload: z.unknown().optional(), at }),
  z.object({ type: z.literal('statusline'), pane, payload: z.unknown().optional(), at }),
  z.object({ type: z.literal('request'), id: z.string(), command: z.string(), args: z.unknown().optional() }),
]);

const controlReply = z.object({ id: z.string(), ok: z.boolean(), result: z.unknown().optional(), error: z.string().optional().catch(undefined) });

/** One line from the socket → an event or a request; anything else (junk, a foreign shape) is null. */
export function parseControlMessage(line: string): ControlEvent | ControlRequest | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const message = parsePayload(controlMessage, value);
  if (!message) return null;
  switch (message.type) {
    case 'hook':
      return { type: 'hook', event: message.event, pane: message.pane ?? null, payload: message.payload ?? null, at: message.at ?? Date.now() };
    case 'statusline':
      return { type: 'statusline', pane: message.pane ?? null, payload: message.payload ?? null, at: message.at ?? Date.now() };
    case 'request':
      return { type: 'request', id: message.id, command: message.command, args: message.args };
  }
}

/**
 * Splits a byte stream into lines of at most `max` bytes. Returns false once a line is too
 * long: the caller drops the connection.
 */
export function lineSplitter(max: number, onLine: (line: string) => void): (chunk: Buffer) => boolean {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  return (chunk) => {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (pendingBytes + piece.length > max) return false;
      const line = pendingBytes === 0 ? piece.toString('utf8') : Buffer.concat([...pending, piece]).toString('utf8');
      pending = [];
      pendingBytes = 0;
      onLine(line);
    }
    const rest = chunk.subarray(start);
    if (pendingBytes + rest.length > max) return false;
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
    return true;
  };
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    const timer = setTimeout(() => {
      probe.destroy();
      resolve(true); // connected but silent, or a backlog that is full: somebody is there
    }, PROBE_TIMEOUT_MS);
    probe.once('connect', () => {
      clearTimeout(timer);
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** A socket file left by a daemon that died is removed; a live daemon's socket is never taken. */
async function clearStaleSocket(path: string): Promise<void> {
  try {
    lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new FailoverError('SOCKET_UNUSABLE', `cannot inspect ${path}`, { cause: err });
  }
  if (await socketAnswers(path)) throw new FailoverError('SOCKET_IN_USE', `a daemon already listens on ${path}`);
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw new FailoverError('SOCKET_UNUSABLE', `cannot remove the stale socket ${path}`, { cause: err });
  }
}

function replyLine(id: string, outcome: { ok: true; result: unknown } | { ok: false; error: string }): string {
  const reply: ControlReply = outcome.ok ? { id, ok: true, result: outcome.result ?? null } : { id, ok: false, error: outcome.error };
  try {
    return JSON.stringify(reply) + '\n';
  } catch (err) {
    // A result JSON cannot carry (a cycle, a BigInt): the client still gets an answer.
    return JSON.stringify({ id, ok: false, error: `the reply could not be encoded: ${err instanceof Error ? err.message : String(err)}` } satisfies ControlReply) + '\n';
  }
}

function serve(socket: Socket, handlers: ControlHandlers): void {
  const { logger } = handlers;
  const answer = (request: ControlRequest): void => {
    let pending: Promise<unknown>;
    try {
      pending = handlers.onRequest(request);
    } catch (err) {
      pending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    pending.then(
      (result: unknown) => ({ ok: true as const, result }),
      (err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }),
    ).then((outcome) => {
      if (!socket.destroyed && socket.writable) socket.write(replyLine(request.id, outcome));
    }, () => undefined);
  };
  const feed = lineSplitter(MAX_CONTROL_LINE, (line) => {
    if (line.trim() === '') return;
    const message = parseControlMessage(line);
    if (!message) {
      logger.debug({ bytes: line.length }, 'unreadable control message dropped');
      return;
    }
    if (message.type === 'request') {
      answer(message);
      return;
    }
    try {
      handlers.onEvent(message);
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'control event handler failed');
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    if (feed(chunk)) return;
    logger.warn({ maxBytes: MAX_CONTROL_LINE }, 'control message too long: dropped, connection closed');
    socket.removeAllListeners('data');
    socket.destroy();
  });
}

/**
 * The daemon's unix socket, mode 0600 from birth: hooks and the statusline send events;
 * `switch`, `status` and `ping` send requests and get one reply line. Newline-delimited
 * JSON, each line at most 1 MiB. Put it in a 0700 dir (the state dir is).
 */
export async function startControlSocket(path: string, handlers: ControlHandlers): Promise<{ close(): Promise<void> }> {
  await clearStaleSocket(path);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, handlers);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      reject(new FailoverError('SOCKET_UNUSABLE', `cannot listen on ${path}`, { cause: err }));
    });
    // bind(2) happens inside listen(), synchronously: the umask covers exactly that call,
    // so the socket is never group- or world-accessible and nothing else in the process
    // runs under the narrowed umask.
    const previous = process.umask(0o177);
    try {
      server.listen(path, resolve);
    } finally {
      process.umask(previous);
    }
  });
  chmodSync(path, 0o600);
  server.on('error', (err) => { handlers.logger.warn({ err: err.message }, 'control socket error'); });
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

/**
 * One request to the running daemon. Faults: DAEMON_NOT_RUNNING when nobody listens,
 * DAEMON_GONE when it hung up without answering, DAEMON_TIMEOUT, DAEMON_REFUSED when the
 * handler rejected (its message is the error's).
 */
export function sendRequest(path: string, command: string, args: unknown, options: { timeoutMs: number }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = randomUUID();
    const socket = createConnection(path);
    let connected = false;
    const gone = (cause?: unknown) => new FailoverError('DAEMON_GONE', `the daemon went away while answering "${command}"`, cause === undefined ? undefined : { cause });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new FailoverError('DAEMON_TIMEOUT', `the daemon did not answer "${command}" within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const feed = lineSplitter(MAX_CONTROL_LINE, (line) => {
      let reply: z.infer<typeof controlReply> | null = null;
      try {
        reply = parsePayload(controlReply, JSON.parse(line));
      } catch {
        // not a reply: keep waiting
      }
      if (reply?.id !== id) return;
      clearTimeout(timer);
      socket.end();
      if (reply.ok) resolve(reply.result);
      else reject(new FailoverError('DAEMON_REFUSED', reply.error ?? 'the daemon refused the request'));
    });
    socket.once('connect', () => {
      connected = true;
      socket.write(JSON.stringify({ type: 'request', id, command, args: args ?? null }) + '\n');
    });
    socket.on('data', (chunk: Buffer) => {
      if (feed(chunk)) return;
      clearTimeout(timer);
      socket.destroy();
      reject(new FailoverError('DAEMON_REPLY_TOO_LONG', `the daemon's answer to "${command}" is over ${MAX_CONTROL_LINE} bytes`));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(connected ? gone(err) : new FailoverError('DAEMON_NOT_RUNNING', `no daemon listens on ${path}`, { cause: err }));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      // A no-op once a reply or an error has settled the promise.
      reject(gone());
    });
  });
}
