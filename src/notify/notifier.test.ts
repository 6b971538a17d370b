import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { createNotifier } from './notifier.js';

const TOKEN = '987654:SECRET-BOT-TOKEN';
const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function standIn(reply: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; bodies: { path: string; body: Record<string, unknown> }[] }> {
  const bodies: { path: string; body: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', body: JSON.parse(data || '{}') as Record<string, unknown> });
      reply(bodies.length, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

function capture() {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger({ pretty: false, destination, level: 'debug' }), text: () => text };
}

const fast = { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 };

describe('notifier', () => {
  it('delivers to Telegram and a webhook, once per event', async () => {
    const tg = await standIn((_n, _q, res) => res.end('{"ok":true}'));
    const hook = await standIn((_n, _q, res) => res.end('ok'));
    const notifier = createNotifier({
      notify: { telegram: { botToken: TOKEN, chatId: '42', apiBase: tg.url }, webhooks: [{ url: `${hook.url}/in`, headers: { 'x-key': 'k' } }] },
      logger: capture().logger,
      retry: fast,
    });
    for (let i = 0; i < 10; i++) notifier.notify({ kind: 'swap-done', key: 'swap:1', text: 'Swapped accounts: A → B' });
    await notifier.flush(5000);
    expect(tg.bodies).toEqual([{ path: `/bot${TOKEN}/sendMessage`, body: { chat_id: '42', text: 'Swapped accounts: A → B', disable_web_page_preview: true } }]);
    expect(hook.bodies).toHaveLength(1);
    expect(hook.bodies[0]?.body).toMatchObject({ event: 'swap-done', text: 'Swapped accounts: A → B' });
  });

  it('retries a 5xx and delivers once; gives up at once on a 4xx', async () => {
    const flaky = await standIn((n, _q, res) => {
      res.statusCode = n === 1 ? 502 : 200;
      res.end('{}');
    });
    const notifier = createNotifier({ notify: { telegram: { botToken: TOKEN, chatId: '1', apiBase: flaky.url }, webhooks: [] }, logger: capture().logger, retry: fast });
    notifier.notify({ kind: 'limit', text: 'one' });
    await notifier.flush(5000);
    expect(flaky.bodies).toHaveLength(2);
    expect(notifier.deliveries()).toEqual([{ kind: 'limit', channel: 'telegram', ok: true, attempts: 2 }]);

    const refusing = await standIn((_n, _q, res) => {
      res.statusCode = 400;
      res.end('{}');
    });
    const strict = createNotifier({ notify: { telegram: null, webhooks: [{ url: refusing.url, headers: {} }] }, logger: capture().logger, retry: fast });
    strict.notify({ kind: 'limit', text: 'two' });
    await strict.flush(5000);
    expect(refusing.bodies).toHaveLength(1);
    expect(strict.deliveries()[0]).toMatchObject({ ok: false, attempts: 1 });
  });

  it('returns at once when the receiver hangs, and never logs the bot token', async () => {
    const hanging = await standIn(() => undefined);
    const log = capture();
    const notifier = createNotifier({ notify: { telegram: { botToken: TOKEN, chatId: '1', apiBase: hanging.url }, webhooks: [] }, logger: log.logger, retry: fast, requestTimeoutMs: 200 });
    notifier.notify({ kind: 'swap-partial', text: 'PARTIAL SWAP' });
    expect(notifier.deliveries()).toEqual([]);
    await waitFor(() => notifier.deliveries().length === 1, { what: 'the give-up' });
    expect(notifier.deliveries()[0]).toMatchObject({ ok: false, attempts: 3 });
    const refused = createNotifier({ notify: { telegram: { botToken: TOKEN, chatId: '1', apiBase: 'http://127.0.0.1:1' }, webhooks: [] }, logger: log.logger, retry: fast });
    refused.notify({ kind: 'limit', text: 'x' });
    await refused.flush(5000);
    expect(log.text()).toContain('notification not delivered');
    expect(log.text()).not.toContain('SECRET-BOT-TOKEN');
  });
});
