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

/** How much of a transcript's end is read: a turn's last records, never the whole file. */
const TAIL_BYTES = 256 * 1024;

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
 * The last records of a transcript, newest first; a missing or unreadable file has none, nor
 * has anything but a regular file (a FIFO put in its place is opened without blocking: a
 * plain open would wait for a writer forever, and the swap or start-up reading it with it).
 */
export async function readTailRecords(path: string, bytes = TAIL_BYTES): Promise<Json[]> {
  let text: string;
  try {
    const file = await openRegularFile(path);
    if (!file) return [];
    try {
      const length = Math.min(file.size, bytes);
      const buffer = Buffer.alloc(length);
      await file.handle.read(buffer, 0, length, file.size - length);
      text = buffer.toString('utf8');
    } finally {
      await file.handle.close();
    }
  } catch {
    return [];
  }
  const out: Json[] = [];
  // The first line may be cut by the window; JSON.parse rejects it and it is skipped.
  for (const line of text.split('\n').reverse()) {
    if (line.trimStart()[0] !== '{') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isJson(parsed)) out.push(parsed);
    } catch {
      // a partial or foreign line: skipped, as Claude Code's own reader does
    }
  }
  return out;
}

/** How the conversation in `path` ends (see ConversationEnd), and the record that says so. */
export async function lastConversationRecord(path: string): Promise<{ readonly end: ConversationEnd; readonly record: Json | null }> {
  for (const record of await readTailRecords(path)) {
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
 * Whether Claude Code wrote `prompt` as a user prompt into the transcript at or after
 * `since`: the proof that a typed prompt was submitted, not merely typed.
 */
export async function promptInTranscript(path: string, prompt: string, since: Date): Promise<boolean> {
  const wanted = prompt.trim();
  for (const record of await readTailRecords(path)) {
    const at = typeof record.timestamp === 'string' ? Date.parse(record.timestamp) : NaN;
    if (Number.isFinite(at) && at < since.getTime()) return false;
    const parsed = parsePayload(transcriptRecord, record);
    if (parsed?.type === 'user' && messageText(parsed).includes(wanted)) return true;
  }
  return false;
}

/**
 * Whether the conversation was continued with `prompt` at or after `since`: a user record
 * holding it that is newer than whatever cut the conversation off (a limit record, an
 * interruption). A continuation typed for an earlier cut, however recent, does not count.
 */
export async function continuedSince(path: string, prompt: string, since: Date): Promise<boolean> {
  const wanted = prompt.trim();
  for (const value of await readTailRecords(path)) {
    const at = typeof value.timestamp === 'string' ? Date.parse(value.timestamp) : NaN;
    if (Number.isFinite(at) && at < since.getTime()) return false;
    const record = parsePayload(transcriptRecord, value);
    if (record?.type === 'user' && messageText(record).includes(wanted)) return true;
    const end = endOf(value);
    if (end === 'limited' || end === 'interrupted') return false;
  }
  return false;
}
