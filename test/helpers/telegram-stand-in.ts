import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInMessage {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

/** A local HTTP server in place of Telegram's Bot API (the one thing outside the machine). */
export interface TelegramStandIn {
  readonly url: string;
  readonly messages: StandInMessage[];
  close(): Promise<void>;
}

export async function startTelegramStandIn(): Promise<TelegramStandIn> {
  const messages: StandInMessage[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // recorded as an empty body
      }
      messages.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, result: { message_id: messages.length } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => { resolve(); })),
  };
}
