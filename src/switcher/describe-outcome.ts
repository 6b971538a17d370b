import type { NotifyEvent } from '../notify/notifier.js';
import type { SwitchOutcome } from './types.js';

function iso(value: Date | null): string {
  return value === null ? 'unknown' : value.toISOString();
}

/** One line for a swap's outcome, as `switch`, the HTTP answer and the demo print it. */
export function describeOutcome(outcome: SwitchOutcome): string {
  switch (outcome.result) {
    case 'done': {
      const lost = outcome.sessions.filter((s) => s.continuation === 'not-delivered').map((s) => s.name);
      return `switched ${outcome.from ?? '(none)'} → ${outcome.to}; ${outcome.sessions.filter((s) => s.ok).length}/${outcome.sessions.length} session(s) moved${lost.length > 0 ? `; continuation NOT delivered to ${lost.join(', ')}` : ''}`;
    }
    case 'cancelled':
      return `swap to ${outcome.to} cancelled: ${outcome.reason}`;
    case 'partial':
      return `PARTIAL SWAP: ${outcome.reason}`;
    case 'no-target':
      return `no account available; retry at ${iso(outcome.retryAt)}`;
    case 'deferred':
      return `deferred until ${iso(outcome.until)}: ${outcome.reason}`;
    case 'skipped':
    case 'refused':
      return `${outcome.result}: ${outcome.reason}`;
  }
}

/**
 * The news that a continuation Claude Code never confirmed was not delivered: `after` says
 * when ("After the swap A → B", "A has reset, but"), `account` where the sessions sit.
 */
export function continuationLostEvent(after: string, account: string, names: readonly string[], key: string, details: Readonly<Record<string, unknown>>): NotifyEvent {
  return {
    kind: 'continuation-lost',
    key,
    text: `${after} the continuation prompt never reached ${names.join(', ')}: ${names.length === 1 ? 'it sits' : 'they sit'} idle on ${account}. Attach and continue by hand.`,
    details,
  };
}
