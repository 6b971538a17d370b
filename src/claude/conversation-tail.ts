import { openRegularFile } from '../regular-file.js';
import { messageText, parsePayload, transcriptRecord, type TranscriptRecord } from './payloads.js';
import { transcriptSignal } from './transcript-record.js';

/**
 * How a conversation's transcript ends, read once its process has stopped:
 * - `answered`: the last turn was answered (or ended on an error that is not a limit);
 * - `awaiting-answer`: a prompt, a tool result or a tool call with nothing after it;
 * - `limited`: a usage-limit record with nothing after it;
 * - `interrupted`: Claude Code's "[Request interrupted by user]" marker (a Ctrl-C or Escape);
 * - `empty`: no conversation record at all (or no transcript).
 */
export type ConversationEnd = 'answered' | 'awaiting-answer' | 'limited' | 'interrupted' | 'empty';

/** A transcript is read backwards in blocks this size, only as far as the question needs. */
const BLOCK_BYTES = 64 * 1024;

const INTERRUPTED = /^\[Request interrupted by user/;
/** Local slash commands and their output are written as user records but ask for no answer. */
const LOCAL_COMMAND = /^\s*<(command-name|command-message|command-args|local-command-stdout|local-command-stderr)>/;

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLimitRecord(record: TranscriptRecord): boolean {
  return record.isApiErrorMessage === true && (record.error === 'rate_limit' || record.apiError === 'usage_limit_reached');
}

function blocks(record: TranscriptRecord): readonly { readonly type?: string | undefined }[] {
  const content = record.message?.content;
  return Array.isArray(content) ? content : [];
}

/** What one record says about the end of the conversation; null: it says nothing (skip it). */
function endOf(value: Json): ConversationEnd | null {
  const record = parsePayload(transcriptRecord, value);
  if (!record || record.isMeta === true || record.isSidechain === true) return null;
  if (record.type === 'assistant') {
    if (isLimitRecord(record) || transcriptSignal(value)?.type === 'limit') return 'limited';
    if (record.isApiErrorMessage === true) return 'answered';
    return blocks(record).some((b) => b.type === 'tool_use') ? 'awaiting-answer' : 'answered';
  }
  if (record.type === 'user') {
    if (blocks(record).some((b) => b.type === 'tool_result')) return 'awaiting-answer';
    const text = messageText(record).trim();
    if (text === '' || LOCAL_COMMAND.test(text)) return null;
    return INTERRUPTED.test(text) ? 'interrupted' : 'awaiting-answer';
  }
  return null; // system lines ("Usage limit reached · set to continue…"), summaries, snapshots
}

/**
 * A transcript's records, newest first, read backwards a block at a time: a caller that stops
 * early (the end of the conversation, a time it need not look before) reads only the file's
 * last blocks, however long the conversation, and one that must look further is never cut
 * off by a fixed window (a long answer after a prompt, a subagent's many sidechain records).
 * `maxBytes` bounds how far back it reads. A missing or unreadable file has no records, nor
 * has anything but a regular file (a FIFO put in its place is opened without blocking: a
 * plain open would wait for a writer forever, and the swap or start-up reading it with it).
 * Lines that are not JSON objects (a partial line being written, a foreign one) are skipped,
 * as Claude Code's own reader does.
 */
export async function* recordsNewestFirst(path: string, options: { readonly maxBytes?: number } = {}): AsyncGenerator<Json> {
  const file = await openRegularFile(path).catch(() => null);
  if (!file) return;
  try {
    const floor = Math.max(0, file.size - (options.maxBytes ?? Number.POSITIVE_INFINITY));
    let position = file.size;
    // The start of the earliest line read so far, in file order: it may continue into the block
    // before. Kept as pieces and joined once, so a line of many megabytes costs one pass.
    let carry: Buffer[] = [];
    while (position > floor) {
      const length = Math.min(BLOCK_BYTES, position - floor);
      position -= length;
      const read = Buffer.alloc(length);
      const { bytesRead } = await file.handle.read(read, 0, length, position);
      const block = read.subarray(0, bytesRead);
      let lineEnd = block.length;
      let newline = lineEnd > 0 ? block.lastIndexOf(0x0a, lineEnd - 1) : -1;
      while (newline >= 0) {
        const tail = block.subarray(newline + 1, lineEnd);
        const record = parseRecord(carry.length > 0 ? Buffer.concat([tail, ...carry]) : tail);
        carry = [];
        if (record) yield record;
        lineEnd = newline;
        newline = lineEnd > 0 ? block.lastIndexOf(0x0a, lineEnd - 1) : -1;
      }
      carry.unshift(block.subarray(0, lineEnd));
    }
    // The file's first line, whole only when the read went back to the start.
    const first = position === 0 ? parseRecord(Buffer.concat(carry)) : null;
    if (first) yield first;
  } catch {
    // unreadable part-way: what was read stands
  } finally {
    await file.handle.close();
  }
}

function parseRecord(line: Buffer): Json | null {
  const text = line.toString('utf8');
  if (text.trimStart()[0] !== '{') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return isJson(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** How the conversation in `path` ends (see ConversationEnd), and the record that says so. */
export async function lastConversationRecord(path: string): Promise<{ readonly end: ConversationEnd; readonly record: Json | null }> {
  for await (const record of recordsNewestFirst(path)) {
    const end = endOf(record);
    if (end) return { end, record };
  }
  return { end: 'empty', record: null };
}

/** How the conversation in `path` ends (see ConversationEnd). */
export async function conversationEnd(path: string): Promise<ConversationEnd> {
  return (await lastConversationRecord(path)).end;
}

/**
 * Whether a user record holding `prompt` was written at or after `since`, read back only to
 * `since`; with `sinceCut`, only one newer than whatever cut the conversation off (a limit
 * record, an interruption).
 */
async function promptWritten(path: string, prompt: string, since: Date, sinceCut: boolean): Promise<boolean> {
  const wanted = prompt.trim();
  for await (const value of recordsNewestFirst(path)) {
    const at = typeof value.timestamp === 'string' ? Date.parse(value.timestamp) : NaN;
    if (Number.isFinite(at) && at < since.getTime()) return false;
    const record = parsePayload(transcriptRecord, value);
    if (record?.type === 'user' && messageText(record).includes(wanted)) return true;
    if (sinceCut) {
      const end = endOf(value);
      if (end === 'limited' || end === 'interrupted') return false;
    }
  }
  return false;
}

/**
 * Whether Claude Code wrote `prompt` as a user prompt into the transcript at or after
 * `since`: the proof that a typed prompt was submitted, not merely typed.
 */
export function promptInTranscript(path: string, prompt: string, since: Date): Promise<boolean> {
  return promptWritten(path, prompt, since, false);
}

/**
 * Whether the conversation was continued with `prompt` at or after `since`: a user record
 * holding it that is newer than whatever cut the conversation off (a limit record, an
 * interruption). A continuation typed for an earlier cut, however recent, does not count.
 */
export function continuedSince(path: string, prompt: string, since: Date): Promise<boolean> {
  return promptWritten(path, prompt, since, true);
}
