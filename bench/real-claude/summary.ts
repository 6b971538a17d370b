import { percentile } from '../proc-usage.js';
import type { LimitTrial } from './limit-trial.js';

export interface Spread {
  readonly n: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function spread(values: readonly number[]): Spread {
  return { n: values.length, p50Ms: round(percentile(values, 50)), p95Ms: round(percentile(values, 95)), maxMs: values.length > 0 ? round(Math.max(...values)) : NaN };
}

/** The parts of limit → continuation, in order; each from one moment of a run to the next. */
export const LIMIT_PARTS = [
  ['detection', '429 sent → daemon logs "usage limit detected"', (t: LimitTrial) => t.limitSentAt, (t: LimitTrial) => t.detectedAt],
  ['queue + snapshot', 'detected → swap step "saved" (the pool snapshot taken)', (t: LimitTrial) => t.detectedAt, (t: LimitTrial) => t.steps.saved],
  ['flip + prepare target', '"saved" → "stopping" (link flipped, target shared links and settings)', (t: LimitTrial) => t.steps.saved, (t: LimitTrial) => t.steps.stopping],
  ['stop', '"stopping" → "relaunching" (the limited session is not waited for)', (t: LimitTrial) => t.steps.stopping, (t: LimitTrial) => t.steps.relaunching],
  ['respawn', '"relaunching" → "session started" (transcript tail read, pane cleared, respawn-pane)', (t: LimitTrial) => t.steps.relaunching, (t: LimitTrial) => t.relaunchedAt],
  ['Claude Code start-up', '"session started" → the pool types the continuation (its readiness check passed)', (t: LimitTrial) => t.relaunchedAt, (t: LimitTrial) => t.continuationTypedAt],
  ['lost typings', 'first typing → last typing (the pool types again when Claude Code has not confirmed the prompt within its wait)', (t: LimitTrial) => t.continuationTypedAt, (t: LimitTrial) => t.continuationLastTypedAt],
  ['prompt → hook', 'continuation typed (last time) → its UserPromptSubmit at the daemon', (t: LimitTrial) => t.continuationLastTypedAt, (t: LimitTrial) => t.continuationSubmitReceivedAt],
  ['hook → request', 'UserPromptSubmit at the daemon → first request with beta\'s token at the stand-in', (t: LimitTrial) => t.continuationSubmitReceivedAt, (t: LimitTrial) => t.firstBetaRequestAt],
] as const;

export interface LimitSummary {
  readonly trials: number;
  /** How long the stand-in held alpha's request before the 429 (BENCH_REAL_LIMIT_DELAY_MS). */
  readonly limitDelayMs: number;
  /** Runs that got as far as alpha's 429 (a run that failed before it is in `errors`). */
  readonly limited: number;
  /** Of those, runs where no request with beta's token for the conversation ever arrived. */
  readonly notContinued: number;
  readonly errors: readonly string[];
  /** 429 sent → first request with beta's token for the same conversation. */
  readonly limitToFirstRequest: Spread;
  /** 429 sent → the turn carrying the continuation prompt (the same request unless the CLI sent another first). */
  readonly limitToContinuationTurn: Spread;
  readonly detectedBy: Record<string, number>;
  /** Runs where the pool typed the continuation more than once (the first typing was lost). */
  readonly retypedContinuations: number;
  readonly breakdown: readonly (Spread & { readonly part: string; readonly span: string })[];
  /** "session started" → the new process's SessionStart hook (a command hook: Claude Code has started). */
  readonly sessionStartHook: Spread;
  readonly hookDelivery: Record<string, Spread & { readonly cause: string }>;
  readonly runs: readonly LimitTrial[];
}

const between = (from: number | null | undefined, to: number | null | undefined) => (from != null && to != null ? to - from : null);
const present = (values: readonly (number | null)[]) => values.filter((v): v is number => v !== null);

const CAUSES: Record<string, string> = {
  UserPromptSubmit: 'Enter typed into the pane (tmux send-keys)',
  Stop: "the stand-in sent the answer (the CLI streams it, renders, writes the transcript, then fires)",
  StopFailure: 'the stand-in sent the 429 (the CLI renders the banner, writes the transcript, then fires)',
};

export function summarizeLimit(trials: number, limitDelayMs: number, runs: readonly LimitTrial[], errors: readonly string[]): LimitSummary {
  const detectedBy: Record<string, number> = {};
  for (const r of runs) detectedBy[r.detectedBy ?? 'never'] = (detectedBy[r.detectedBy ?? 'never'] ?? 0) + 1;
  const hookDelivery: Record<string, Spread & { cause: string }> = {};
  for (const event of ['UserPromptSubmit', 'Stop', 'StopFailure']) {
    const samples = runs.flatMap((r) => r.hookSamples.filter((s) => s.event === event));
    hookDelivery[event] = { ...spread(present(samples.map((s) => between(s.causeAt, s.receivedAt)))), cause: CAUSES[event] ?? '' };
  }
  return {
    trials,
    limitDelayMs,
    limited: runs.length,
    notContinued: runs.filter((r) => r.firstBetaRequestAt === null).length,
    errors,
    limitToFirstRequest: spread(present(runs.map((r) => between(r.limitSentAt, r.firstBetaRequestAt)))),
    limitToContinuationTurn: spread(present(runs.map((r) => between(r.limitSentAt, r.continuationTurnAt)))),
    detectedBy,
    retypedContinuations: runs.filter((r) => r.continuationTypings > 1).length,
    breakdown: LIMIT_PARTS.map(([part, span, from, to]) => ({ part, span, ...spread(present(runs.map((r) => between(from(r), to(r))))) })),
    sessionStartHook: spread(present(runs.map((r) => between(r.relaunchedAt, r.sessionStartReceivedAt)))),
    hookDelivery,
    runs,
  };
}
