import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';

export interface EventFeedDeps {
  /** What the page shows, read afresh each time; sent whenever its JSON changes. */
  snapshot(): Promise<unknown>;
  /** How often the snapshot is read (default 500 ms). */
  readonly pollMs?: number;
  /** How long a quiet stream waits before a heartbeat (default 15 s). */
  readonly heartbeatMs?: number;
}

/** Open event streams at most: each reads the snapshot on its own. */
export const MAX_EVENT_STREAMS = 32;

/**
 * `GET /api/events`: server-sent events. `status` carries the snapshot as JSON, sent at once
 * and then each time it changes; `heartbeat` is sent when nothing else was for a while, so a
 * proxy keeps the stream open and the page can tell a dead one. Behind the API guard.
 */
export function mountEvents(app: Hono, deps: EventFeedDeps): void {
  const pollMs = deps.pollMs ?? 500;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  let open = 0;
  app.get('/api/events', (c) => {
    if (open >= MAX_EVENT_STREAMS) return c.json({ error: `too many event streams open (${MAX_EVENT_STREAMS})` }, 503);
    c.header('cache-control', 'no-store');
    c.header('x-accel-buffering', 'no');
    open += 1;
    return streamSSE(c, async (stream) => {
      let sent = '';
      let lastWrite = Date.now();
      let id = 0;
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ pollMs, heartbeatMs }), retry: 2000 });
        while (!stream.aborted) {
          let json: string;
          try {
            json = JSON.stringify(await deps.snapshot());
          } catch {
            // The daemon is stopping (its store closed): the page reconnects to the next one.
            break;
          }
          if (json !== sent) {
            sent = json;
            id += 1;
            await stream.writeSSE({ event: 'status', id: String(id), data: json });
            lastWrite = Date.now();
          } else if (Date.now() - lastWrite >= heartbeatMs) {
            await stream.writeSSE({ event: 'heartbeat', data: new Date().toISOString() });
            lastWrite = Date.now();
          }
          await stream.sleep(pollMs);
        }
      } finally {
        open -= 1;
      }
    }, async () => {
      // A write to a stream the client left: nothing to tell anyone.
    });
  });
}
