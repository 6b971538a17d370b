import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { lineSplitter, MAX_CONTROL_LINE, parseControlMessage, sendRequest, startControlSocket, type ControlEvent, type ControlHandlers } from './control-socket.js';

let dir: string;
let path: string;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  dir = await makeTempDir('cf-sock');
  path = join(dir, 'daemon.sock');
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await removeTempDir(dir);
});

async function start(handlers: Partial<ControlHandlers> = {}): Promise<ControlEvent[]> {
  const events: ControlEvent[] = [];
  const server = await startControlSocket(path, { logger: silentLogger(), onEvent: (e) => events.push(e), onRequest: (r) => Promise.resolve({ echo: r.command, args: r.args }), ...handlers });
  closers.push(() => server.close());
  return events;
}

/** A raw client: writes the given pieces, one write each, and keeps the connection. */
async function rawClient(pieces: (string | Buffer)[]) {
  const socket = createConnection(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  for (const piece of pieces) socket.write(piece);
  closers.push(() => {
    socket.destroy();
    return Promise.resolve();
  });
  return { socket, closed: () => closed };
}

async function listenRaw(onConnection: (socket: Socket) => void): Promise<Server> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => { resolve(); });
      }),
  );
  return server;
}

describe('control socket', () => {
  it('is created 0600 and answers requests with the handler\'s result', async () => {
    await start();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await sendRequest(path, 'ping', { x: 1 }, { timeoutMs: 5000 })).toEqual({ echo: 'ping', args: { x: 1 } });
    expect(await sendRequest(path, 'status', undefined, { timeoutMs: 5000 })).toEqual({ echo: 'status', args: null });
  });

  it('turns a handler that rejects or throws into a DAEMON_REFUSED with its message', async () => {
    await start({
      onRequest: (r) => {
        if (r.command === 'switch') return Promise.reject(new Error('no account has quota'));
        throw new Error('handler bug');
      },
    });
    await expect(sendRequest(path, 'switch', { account: 'b' }, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'DAEMON_REFUSED', message: 'no account has quota' });
    await expect(sendRequest(path, 'status', null, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'DAEMON_REFUSED', message: 'handler bug' });
  });

  it('answers even when the result cannot be encoded', async () => {
    await start({ onRequest: () => Promise.resolve({ big: 1n }) });
    await expect(sendRequest(path, 'status', null, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'DAEMON_REFUSED', message: /could not be encoded/ });
  });

  it('delivers events split over many writes, skips garbage lines and survives a throwing handler', async () => {
    let calls = 0;
    const events: ControlEvent[] = [];
    await start({
      onEvent: (e) => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
        events.push(e);
      },
    });
    const first = JSON.stringify({ type: 'hook', event: 'Stop', pane: '%1', payload: { n: 1 }, at: 5 }) + '\n';
    const second = Buffer.from(JSON.stringify({ type: 'statusline', pane: null, payload: { text: 'résumé ∙ 5h' }, at: 6 }) + '\n');
    // The second message is cut inside a multi-byte character.
    const cut = second.indexOf('∙') + 1;
    const { closed } = await rawClient([first, 'not json\n', '[1,2]\n', '{"type":"hook"}\n', '\n', second.subarray(0, cut), second.subarray(cut)]);
    await waitFor(() => events.length === 1, { what: 'the statusline event' });
    expect(events[0]).toEqual({ type: 'statusline', pane: null, payload: { text: 'résumé ∙ 5h' }, at: 6 });
    expect(calls).toBe(2);
    expect(closed()).toBe(false);
  });

  it('drops a line over 1 MiB and closes that connection, and keeps serving others', async () => {
    const events = await start();
    const client = await rawClient(['{"type":"hook","event":"Stop","payload":"', 'x'.repeat(MAX_CONTROL_LINE)]);
    await waitFor(client.closed, { what: 'the connection to be closed' });
    expect(events).toEqual([]);
    expect(await sendRequest(path, 'ping', null, { timeoutMs: 5000 })).toMatchObject({ echo: 'ping' });
  });

  it('removes the socket file of a daemon that died, but never steals a live one', async () => {
    // A daemon that dies without cleaning up leaves its socket file behind.
    const dead = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((resolve) => dead.on('exit', resolve));
    expect(existsSync(path)).toBe(true);
    await expect(sendRequest(path, 'ping', null, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'DAEMON_NOT_RUNNING' });
    await start();
    await expect(startControlSocket(path, { logger: silentLogger(), onEvent: () => undefined, onRequest: () => Promise.resolve(null) })).rejects.toMatchObject({ code: 'SOCKET_IN_USE' });
    expect(await sendRequest(path, 'ping', null, { timeoutMs: 5000 })).toMatchObject({ echo: 'ping' });
  });

  it('replaces a plain file in the socket\'s place and removes the socket on close', async () => {
    writeFileSync(path, '');
    const server = await startControlSocket(path, { logger: silentLogger(), onEvent: () => undefined, onRequest: () => Promise.resolve(null) });
    expect(statSync(path).isSocket()).toBe(true);
    await server.close();
    expect(existsSync(path)).toBe(false);
    await expect(sendRequest(path, 'ping', null, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'DAEMON_NOT_RUNNING' });
  });
});

describe('sendRequest against a daemon that misbehaves', () => {
  it('DAEMON_GONE when it hangs up without answering', async () => {
    await listenRaw((socket) => socket.once('data', () => socket.destroy()));
    await expect(sendRequest(path, 'switch', null, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'DAEMON_GONE' });
  });

  it('DAEMON_TIMEOUT when it never answers', async () => {
    await listenRaw(() => undefined);
    await expect(sendRequest(path, 'status', null, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'DAEMON_TIMEOUT' });
  });

  it('ignores lines that are not its reply', async () => {
    await listenRaw((socket) =>
      socket.once('data', (chunk: Buffer) => {
        const { id } = JSON.parse(chunk.toString('utf8')) as { id: string };
        socket.write('garbage\n' + JSON.stringify({ id: 'someone-else', ok: true, result: 1 }) + '\n' + JSON.stringify({ id, ok: true, result: 2 }) + '\n');
      }),
    );
    expect(await sendRequest(path, 'status', null, { timeoutMs: 10_000 })).toBe(2);
  });
});

describe('message parsing', () => {
  it('reads the three message types and rejects everything else', () => {
    expect(parseControlMessage('{"type":"hook","event":"StopFailure","pane":"%3","payload":{"error":"rate_limit"},"at":7}')).toEqual({ type: 'hook', event: 'StopFailure', pane: '%3', payload: { error: 'rate_limit' }, at: 7 });
    expect(parseControlMessage('{"type":"statusline","payload":{}}')).toMatchObject({ type: 'statusline', pane: null, payload: {} });
    expect(parseControlMessage('{"type":"request","id":"1","command":"ping"}')).toEqual({ type: 'request', id: '1', command: 'ping', args: undefined });
    for (const bad of ['', 'null', '5', '"hook"', '[]', '{"type":"hook"}', '{"type":"request","id":1,"command":"ping"}', '{"type":"other"}']) expect(parseControlMessage(bad)).toBeNull();
  });

  it('splits lines on bytes and refuses one over the limit', () => {
    const lines: string[] = [];
    const feed = lineSplitter(8, (line) => lines.push(line));
    expect(feed(Buffer.from('ab\ncd'))).toBe(true);
    expect(feed(Buffer.from('ef\n'))).toBe(true);
    expect(lines).toEqual(['ab', 'cdef']);
    expect(feed(Buffer.from('123456789'))).toBe(false);
    expect(lineSplitter(8, () => undefined)(Buffer.from('123456789\n'))).toBe(false);
  });
});
