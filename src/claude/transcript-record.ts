import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseLimitText, rateLimitTypeToKind, type LimitKind } from './limit-text.js';

export type TranscriptSignal =
  | { readonly type: 'limit'; readonly sessionId: string; readonly cwd: string | null; readonly timestamp: Date; readonly kind: LimitKind; readonly resetsAt: Date | null; readonly text: string }
  | { readonly type: 'activity'; readonly role: 'user' | 'assistant'; readonly sessionId: string; readonly cwd: string | null; readonly timestamp: Date };

const MAX_DIR_NAME = 200;

/**
 * Claude Code's project folder name for a cwd: the realpath with every character outside
 * [A-Za-z0-9] replaced by `-`; a name over 200 characters is cut and given a hash suffix
 * (first 8 hex digits of the sha256 of the full name) so long paths stay distinct.
 */
export function encodeProjectDir(realCwd: string): string {
  const encoded = realCwd.replace(/[^A-Za-z0-9]/g, '-');
  if (encoded.length <= MAX_DIR_NAME) return encoded;
  return `${encoded.slice(0, MAX_DIR_NAME)}-${createHash('sha256').update(encoded).digest('hex').slice(0, 8)}`;
}

export function transcriptPath(configHome: string, realCwd: string, sessionId: string): string {
  return join(configHome, 'projects', encodeProjectDir(realCwd), `${sessionId}.jsonl`);
}

function textOf(message: unknown): string {
  if (typeof message !== 'object' || message === null) return '';
  const content = (message as { content?: unknown }).content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((c: unknown) => (typeof c === 'object' && c !== null && typeof (c as { text?: unknown }).text === 'string' ? (c as { text: string }).text : ''))
      .join('\n');
  }
  return '';
}

// A 429 without the subscription's quota headers: a transient rate limit, retried, not a quota.
const TRANSIENT_429 = /^API Error:?\s*(?:Rate limit reached|Request rejected \(429\))/i;

/**
 * An API error record as a limit. Versions up to 2.0.x wrote no `error` field: their limit
 * record is known by its text alone ("Claude AI usage limit reached|<epoch s>", "Session limit
 * reached ∙ resets 3pm"). Newer ones add `error: "rate_limit"` and, later, `quotaLimits`.
 */
function limitOf(record: Record<string, unknown>, sessionId: string, cwd: string | null, timestamp: Date): TranscriptSignal | null {
  const text = textOf(record.message);
  const quota = typeof record.quotaLimits === 'object' && record.quotaLimits !== null ? (record.quotaLimits as Record<string, unknown>) : null;
  if (quota && typeof quota.resetsAt === 'number' && quota.status !== 'allowed' && quota.status !== 'allowed_warning') {
    const kind = typeof quota.rateLimitType === 'string' ? rateLimitTypeToKind(quota.rateLimitType) : 'unknown';
    return { type: 'limit', sessionId, cwd, timestamp, kind, resetsAt: new Date(quota.resetsAt * 1000), text };
  }
  const parsed = parseLimitText(text, { now: timestamp });
  if (parsed.blocked) return { type: 'limit', sessionId, cwd, timestamp, kind: parsed.kind, resetsAt: parsed.resetGuessed ? null : parsed.resetsAt, text };
  const flagged = record.error === 'rate_limit' || record.apiError === 'usage_limit_reached';
  if (!flagged || TRANSIENT_429.test(text.trim())) return null;
  return { type: 'limit', sessionId, cwd, timestamp, kind: 'unknown', resetsAt: null, text };
}

/** One transcript line → what it tells the monitor, or null. Junk never throws. */
export function parseTranscriptLine(line: string): TranscriptSignal | null {
  if (line.trim() === '' || line.trimStart()[0] !== '{') return null;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    record = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const sessionId = typeof record.sessionId === 'string' ? record.sessionId : null;
  if (!sessionId) return null;
  const cwd = typeof record.cwd === 'string' ? record.cwd : null;
  const stamp = typeof record.timestamp === 'string' ? new Date(record.timestamp) : new Date(NaN);
  const timestamp = Number.isNaN(stamp.getTime()) ? new Date() : stamp;
  if (record.isApiErrorMessage === true) {
    const limit = limitOf(record, sessionId, cwd, timestamp);
    if (limit) return limit;
  }
  if (record.type === 'user' || record.type === 'assistant') {
    if (record.isMeta === true) return null;
    return { type: 'activity', role: record.type, sessionId, cwd, timestamp };
  }
  return null;
}
