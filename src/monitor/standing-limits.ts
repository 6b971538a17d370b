import type { Account, Config } from '../config/types.js';
import type { SessionRecord } from '../store/store.js';
import { lastConversationRecord } from '../claude/conversation-tail.js';
import { transcriptSignal } from '../claude/transcript-record.js';
import { transcriptFor } from '../pool/transcript-exists.js';
import { precisionOf, type LimitEvent } from './limit-event.js';

/**
 * Limits that are still in force in the pool's conversations: a session whose transcript ends
 * on a limit record (nothing after it) that resets in the future. This is how a limit hit
 * while the daemon was stopped (or killed before it could act) is learnt at start: the
 * screens only show history, and no hook will fire again.
 */
export async function standingLimits(config: Config, sessions: readonly SessionRecord[], active: Account | null, now: Date): Promise<LimitEvent[]> {
  const events: LimitEvent[] = [];
  for (const session of sessions) {
    const account = config.accounts.find((a) => a.name === session.account) ?? active;
    if (!account || !session.sessionId || !session.cwd) continue;
    const path = transcriptFor(account.home, session.cwd, session.sessionId);
    if (!path) continue;
    const { end, record } = await lastConversationRecord(path);
    if (end !== 'limited' || !record) continue;
    const signal = transcriptSignal(record);
    if (signal?.type !== 'limit') continue;
    // Without a reset time, a limit record is trusted for as long as the fallback guess lasts.
    const resetsAt = signal.resetsAt ?? new Date(signal.timestamp.getTime() + config.monitor.fallbackResetMs);
    if (resetsAt <= now) continue;
    events.push({
      account: account.name,
      kind: signal.kind,
      resetsAt,
      precision: signal.resetsAt ? precisionOf(signal) : 'guess',
      source: 'transcript',
      detectedAt: now,
      session: session.name,
      text: signal.text,
    });
  }
  return events;
}
