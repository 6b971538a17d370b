import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseLimitText, rateLimitTypeToKind, type LimitKind } from './limit-text.js';
import { messageText, parsePayload, transcriptRecord, type TranscriptRecord } from './payloads.js';

export type TranscriptSignal =
  | {
      readonly type: 'limit';
      readonly sessionId: string;
      readonly cwd: string | null;
      readonly timestamp: Date;
      readonly kind: LimitKind;
      readonly resetsAt: Date | null;
      readonly text: string;
      /** The reset was read from the banner's words (to the minute, cut), not from an epoch. */
      readonly resetFromText?: boolean;
    }
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

// A 429 without the subscription's quota headers: a transient rate limit, retried, not a quota.
const TRANSIENT_429 = /^API Error:?\s*(?:Rate limit reached|Request rejected \(429\))/i;

/**
 * An API error record as a limit. Versions up to 2.0.x wrote no `error` field: their limit
 * record is known by its text alone ("Claude AI usage limit reached|<epoch s>", "Session limit
 * reached ∙ resets 3pm"). Newer ones add `error: "rate_limit"` and, later, `quotaLimits`.
 */
function limitOf(record: TranscriptRecord, sessionId: string, cwd: string | null, timestamp: Date): TranscriptSignal | null {
  const text = messageText(record);
  const quota = record.quotaLimits;
  if (quota?.resetsAt !== undefined && quota.status !== 'allowed' && quota.status !== 'allowed_warning') {
    const kind = quota.rateLimitType !== undefined ? rateLimitTypeToKind(quota.rateLimitType) : 'unknown';
    return { type: 'limit', sessionId, cwd, timestamp, kind, resetsAt: new Date(quota.resetsAt * 1000), text };
  }
  const parsed = parseLimitText(text, { now: timestamp });
  if (parsed.blocked) {
    const resetsAt = parsed.resetGuessed ? null : parsed.resetsAt;
    return { type: 'limit', sessionId, cwd, timestamp, kind: parsed.kind, resetsAt, text, ...(resetsAt && !parsed.rule.includes('epoch') ? { resetFromText: true } : {}) };
  }
  const flagged = record.error === 'rate_limit' || record.apiError === 'usage_limit_reached';
  if (!flagged || TRANSIENT_429.test(text.trim())) return null;
  return { type: 'limit', sessionId, cwd, timestamp, kind: 'unknown', resetsAt: null, text };
}

/** One transcript line → what it tells the monitor, or null. Junk never throws. */
export function parseTranscriptLine(line: string): TranscriptSignal | null {
  if (line.trimStart()[0] !== '{') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  return transcriptSignal(parsed);
}

/** A parsed transcript record → what it tells the monitor, or null (not a record we read). */
export function transcriptSignal(value: unknown): TranscriptSignal | null {
  const record = parsePayload(transcriptRecord, value);
  if (!record) return null;
  const { sessionId } = record;
  const cwd = record.cwd ?? null;
  const stamp = record.timestamp !== undefined ? new Date(record.timestamp) : new Date(NaN);
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
