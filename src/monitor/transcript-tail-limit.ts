import { lastConversationRecord } from '../claude/conversation-tail.js';
import { transcriptSignal, type TranscriptSignal } from '../claude/transcript-record.js';

type LimitSignal = Extract<TranscriptSignal, { type: 'limit' }>;

/** How long a `StopFailure` hook waits for the limit record it follows (HTTP hooks come first). */
const RECORD_WAIT_MS = 1000;
const RECORD_POLL_MS = 50;

/**
 * The limit record a conversation ends on: the reset time a `StopFailure` hook does not
 * carry. Only one that ends the conversation: an older limit further up, answered since, is
 * an earlier limit (often of the other account) with a reset already past, not this one.
 */
export async function limitFromTranscriptTail(path: string | null): Promise<LimitSignal | null> {
  if (!path) return null;
  const { end, record } = await lastConversationRecord(path);
  if (end !== 'limited' || !record) return null;
  const signal = transcriptSignal(record);
  return signal?.type === 'limit' ? signal : null;
}

/**
 * The limit record a `StopFailure` hook follows, waited for: over HTTP the hook reaches the
 * daemon before Claude Code writes the record. Null after RECORD_WAIT_MS: the reset is then
 * a guess, which the transcript watcher makes exact when the record comes.
 */
export async function awaitLimitRecord(path: string | null, sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms))): Promise<LimitSignal | null> {
  if (!path) return null;
  const deadline = Date.now() + RECORD_WAIT_MS;
  for (;;) {
    const signal = await limitFromTranscriptTail(path);
    if (signal || Date.now() >= deadline) return signal;
    await sleep(RECORD_POLL_MS);
  }
}
