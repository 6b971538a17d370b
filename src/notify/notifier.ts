import { hostname } from 'node:os';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { redactSecrets } from '../log.js';
import { describeError } from '../errors.js';

export type NotifyKind = 'swap-done' | 'swap-cancelled' | 'swap-partial' | 'no-account' | 'returned' | 'daemon-started' | 'daemon-stopped' | 'session-failing' | 'continuation-lost' | 'task-failed' | 'task-unrunnable' | 'queue-drained' | 'limit' | 'fleet-degraded' | 'fleet-restored' | 'fleet-host-taken';

export interface NotifyEvent {
  readonly kind: NotifyKind;
  readonly text: string;
  /** Events with the same key within the dedupe window are sent once (default: kind + text). */
  readonly key?: string;
  readonly details?: Record<string, unknown>;
}

export interface Delivery {
  readonly kind: NotifyKind;
  readonly channel: string;
  readonly ok: boolean;
  readonly attempts: number;
}

export interface Notifier {
  /** Fire and forget: returns at once, never throws, never holds up a swap. */
  notify(event: NotifyEvent): void;
  /** Waits for pending deliveries, at most `timeoutMs` (shutdown). */
  flush(timeoutMs: number): Promise<void>;
  deliveries(): readonly Delivery[];
}

export interface NotifierOptions {
  readonly notify: Config['notify'];
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly dedupeWindowMs?: number;
  readonly retry?: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly requestTimeoutMs?: number;
}

interface Channel {
  readonly name: string;
  send(event: NotifyEvent, at: Date): Promise<Response>;
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

export function createNotifier(options: NotifierOptions): Notifier {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const dedupeWindowMs = options.dedupeWindowMs ?? 10 * 60_000;
  const retry = options.retry ?? { attempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  // A webhook URL often is the secret itself (a chat service's incoming-hook address).
  const secrets = [options.notify.telegram?.botToken, ...options.notify.webhooks.flatMap((w) => [w.url, ...Object.values(w.headers)])];
  const clean = (text: string) => redactSecrets(text, secrets);
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });

  const channels: Channel[] = [];
  const telegram = options.notify.telegram;
  if (telegram) {
    channels.push({
      name: 'telegram',
      send: (event) => post(`${telegram.apiBase.replace(/\/$/, '')}/bot${telegram.botToken}/sendMessage`, { chat_id: telegram.chatId, text: event.text, disable_web_page_preview: true }),
    });
  }
  options.notify.webhooks.forEach((hook, i) => {
    channels.push({
      name: `webhook[${i}]`,
      send: (event, at) => post(hook.url, { event: event.kind, text: event.text, at: at.toISOString(), host: hostname(), details: event.details ?? {} }, { ...hook.headers }),
    });
  });

  const recent = new Map<string, number>();
  const pending = new Set<Promise<void>>();
  const log: Delivery[] = [];
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

  async function deliver(channel: Channel, event: NotifyEvent, at: Date): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await channel.send(event, at);
        if (response.ok) {
          log.push({ kind: event.kind, channel: channel.name, ok: true, attempts: attempt });
          return;
        }
        let retryAfterMs: number | null = null;
        if (response.status === 429) {
          const body = (await response.json().catch(() => null)) as { parameters?: { retry_after?: number } } | null;
          retryAfterMs = typeof body?.parameters?.retry_after === 'number' ? body.parameters.retry_after * 1000 : null;
        }
        throw new DeliveryError(`HTTP ${response.status}`, response.status >= 500 || response.status === 429, retryAfterMs);
      } catch (err) {
        const retryable = err instanceof DeliveryError ? err.retryable : true; // network errors and timeouts
        if (!retryable || attempt >= retry.attempts) {
          log.push({ kind: event.kind, channel: channel.name, ok: false, attempts: attempt });
          options.logger.warn({ channel: channel.name, event: event.kind, attempts: attempt, err: clean(describeError(err)) }, 'notification not delivered');
          return;
        }
        const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        const wait = err instanceof DeliveryError && err.retryAfterMs !== null ? err.retryAfterMs : backoff / 2 + Math.random() * (backoff / 2);
        await sleep(wait);
      }
    }
  }

  return {
    notify(event) {
      try {
        const key = event.key ?? `${event.kind}:${event.text}`;
        const t = now();
        for (const [k, at] of recent) if (t - at > dedupeWindowMs) recent.delete(k);
        if (recent.has(key)) {
          options.logger.debug({ event: event.kind }, 'notification already sent: not repeated');
          return;
        }
        recent.set(key, t);
        options.logger.info({ event: event.kind, channels: channels.length }, clean(event.text.split('\n')[0] ?? ''));
        const at = new Date(t);
        for (const channel of channels) {
          const p = deliver(channel, event, at).catch(() => undefined);
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
      } catch {
        // a notification must never break its caller
      }
    },
    async flush(timeoutMs) {
      await Promise.race([Promise.allSettled([...pending]), sleep(timeoutMs)]);
    },
    deliveries: () => log,
  };
}
