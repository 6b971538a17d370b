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
