import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** A body longer than `maxBytes` is answered 413 as soon as it is known, never read whole. */
export function cappedBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({ maxSize: maxBytes, onError: (c) => c.json({ error: `body over ${maxBytes} bytes` }, 413) });
}

export type JsonBody = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly error: string };

/** The (capped) body as a JSON object; `empty` is what an empty body stands for (null: refused). */
export async function readJsonObject(c: Context, empty: Record<string, unknown> | null = null): Promise<JsonBody> {
  const text = await c.req.text();
  if (text.trim() === '' && empty !== null) return { ok: true, value: empty };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'the body is not JSON' }; // the parser's message would quote the body
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'the body must be a JSON object' };
  return { ok: true, value: value as Record<string, unknown> };
}
