import type { LimitKind } from '../claude/limit-text.js';

/** Where a limit was seen, best first; `fleet`: another host saw it (store.shared). */
export type LimitSource = 'hook' | 'transcript' | 'statusline' | 'screen' | 'fleet';

/** How much a reset time can be trusted: an epoch from the API beats text beats a guess. */
export type ResetPrecision = 'epoch' | 'text' | 'guess';

export interface LimitEvent {
  readonly account: string;
  readonly kind: LimitKind;
  readonly resetsAt: Date | null;
  readonly precision: ResetPrecision;
  readonly source: LimitSource;
  readonly detectedAt: Date;
  /** The pool session it came from, when known. */
  readonly session: string | null;
  readonly text: string | null;
}

const RANK: Record<ResetPrecision, number> = { guess: 0, text: 1, epoch: 2 };

export function morePrecise(a: ResetPrecision, b: ResetPrecision | null): boolean {
  return b === null || RANK[a] > RANK[b];
}

export function precisionOfSource(source: string | null, guessed: boolean): ResetPrecision | null {
  if (source === null) return null;
  if (guessed) return 'guess';
  return source.endsWith(':epoch') ? 'epoch' : 'text';
}

/** How exact a transcript's limit record says its reset is. */
export function precisionOf(signal: { readonly resetsAt: Date | null; readonly resetFromText?: boolean } | null): ResetPrecision {
  if (!signal?.resetsAt) return 'guess';
  return signal.resetFromText === true ? 'text' : 'epoch';
}
