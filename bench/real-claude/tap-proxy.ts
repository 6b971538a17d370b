import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP pass-through on 127.0.0.1 in front of the daemon's listener that notes when each
 * HTTP request's first bytes arrive from Claude Code (`POST ` at the start of a chunk, so a
 * kept-alive connection counts every request): the moment a hook leaves the CLI. The Host
 * header is rewritten to the daemon's port, as the daemon answers only its own.
 */
export interface TapProxy {
  readonly url: string;
  /** ms since the epoch of each request's first bytes, in order. */
  readonly requestStarts: readonly number[];
  close(): Promise<void>;
}

export async function startTapProxy(target: { host: string; port: number }): Promise<TapProxy> {
  const requestStarts: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (chunk.subarray(0, 5).toString('latin1') !== 'POST ') {
        upstream.write(chunk);
        return;
      }
      requestStarts.push(Date.now());
      // The daemon answers only a Host of its own listener (421 otherwise): name its port.
      upstream.write(Buffer.from(chunk.toString('latin1').replace(/^(host:\s*[^\r\n:]+):\d+/im, `$1:${String(target.port)}`), 'latin1'));
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    const drop = () => { client.destroy(); upstream.destroy(); };
    client.on('error', drop);
    upstream.on('error', drop);
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the tap proxy has no port');
  return {
    url: `http://127.0.0.1:${String(address.port)}`,
    requestStarts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** For each receipt, the latest request start at or before it: that request's transit. */
export function transits(starts: readonly number[], receipts: readonly number[]): number[] {
  return receipts.flatMap((received) => {
    const start = [...starts].reverse().find((s) => s <= received);
    return start === undefined ? [] : [received - start];
  });
}
