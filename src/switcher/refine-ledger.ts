import type { Account } from '../config/types.js';
import type { Store } from '../store/store.js';
import type { SessionSnapshot } from '../pool/swap-types.js';
import { transcriptFor } from '../pool/transcript-exists.js';
import { limitFromTranscriptTail } from '../monitor/transcript-tail-limit.js';

/**
 * After a crash mid-swap: the account the pool left may be in the ledger with a guessed reset
 * (Claude Code's StopFailure hook carries none and can come before the transcript's limit
 * record; the transcript watcher refines it moments later, unless the daemon died first, and
 * at the next start it follows every transcript from its end). The limit records the pool's
 * conversations wrote before the swap opened were written under that account: the newest
 * one with an exact reset still ahead replaces the guess. Returns the reset it set, if any.
 */
export async function refineGuessedReset(store: Store, from: Account, sessions: readonly SessionSnapshot[], swapOpenedAt: Date, now: Date): Promise<Date | null> {
  const entry = store.getLedgerEntry(from.name);
  if (!entry?.exhausted || !entry.resetGuessed) return null;
  let best: { kind: string; resetsAt: Date } | null = null;
  for (const s of sessions) {
    const path = s.sessionId ? transcriptFor(from.home, s.cwd, s.sessionId) : null;
    const signal = await limitFromTranscriptTail(path);
    if (!signal?.resetsAt || signal.resetFromText === true) continue;
    if (signal.timestamp > swapOpenedAt || signal.resetsAt <= now) continue;
    if (!best || signal.resetsAt > best.resetsAt) best = { kind: signal.kind, resetsAt: signal.resetsAt };
  }
  if (!best) return null;
  store.markExhausted(from.name, { kind: best.kind, resetsAt: best.resetsAt, resetGuessed: false, source: 'transcript', detectedAt: now });
  return best.resetsAt;
}
