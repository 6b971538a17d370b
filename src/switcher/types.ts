import type { RelaunchOutcome } from '../pool/swap-types.js';

export type SwitchTrigger = 'limit' | 'proactive' | 'manual' | 'return' | 'retry';

export interface SwitchRequest {
  readonly trigger: SwitchTrigger;
  /** For a limit or proactive request: the account that ran out (or is about to). */
  readonly account?: string | null;
  /** For a manual request: where to go (null: the best available). */
  readonly target?: string | null;
  readonly reason?: string;
}

export type SwitchOutcome =
  | { readonly result: 'done'; readonly from: string | null; readonly to: string; readonly sessions: readonly RelaunchOutcome[] }
  | { readonly result: 'cancelled' | 'partial'; readonly from: string | null; readonly to: string; readonly reason: string }
  | { readonly result: 'no-target'; readonly retryAt: Date | null }
  | { readonly result: 'skipped' | 'refused'; readonly reason: string }
  | { readonly result: 'deferred'; readonly until: Date; readonly reason: string };

/** Journal steps, each written before it is taken. */
export const SWAP_STEPS = ['saved', 'flipping', 'ensuring', 'stopping', 'relaunching', 'committing', 'rolling-back'] as const;
export type SwapStep = (typeof SWAP_STEPS)[number];

export const PARTIAL_SWAP_FLAG = 'partial-swap';
export const RETURN_JOB = 'return';
export const RETRY_JOB = 'retry';
