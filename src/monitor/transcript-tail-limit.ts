import { recordsNewestFirst } from '../claude/conversation-tail.js';
import { transcriptSignal, type TranscriptSignal } from '../claude/transcript-record.js';

/** How much of a transcript's end is searched for the limit record a StopFailure hook follows. */
const TAIL_BYTES = 64 * 1024;

/**
 * The newest limit record near the end of a transcript: the reset time a `StopFailure` hook
 * does not carry (Claude Code writes the record just before it runs the hook).
 */
export async function limitFromTranscriptTail(path: string | null): Promise<Extract<TranscriptSignal, { type: 'limit' }> | null> {
  if (!path) return null;
  for await (const record of recordsNewestFirst(path, { maxBytes: TAIL_BYTES })) {
    const signal = transcriptSignal(record);
    if (signal?.type === 'limit') return signal;
  }
  return null;
}
