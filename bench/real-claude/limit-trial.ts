import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TmuxClient } from '../../src/tmux/client.js';
import type { SwapStep } from '../../src/switcher/types.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { includesPrompt, nowSeconds, startRealSandbox, tokenOf, waitForIdle, waitForTurn, type RealClaude, type RealSandbox } from '../../test/real-claude/helpers.js';
import { firstLogAt, hookReceivedAt, readDaemonLog } from './daemon-log.js';

const run = promisify(execFile);

/**
 * One run of "limit → first request on the new account" with the real CLI: one dedicated
 * session, accounts alpha and beta. Every time is ms since the epoch, read from the stand-in's
 * request log, the daemon's own log lines and its swap steps; `null` when it never happened.
 */
export interface LimitTrial {
  /** The stand-in sent alpha's 5-hour 429 (its request's arrival plus the configured delay). */
  readonly limitSentAt: number;
  /** The first request with beta's token for the same conversation (any path). */
  readonly firstBetaRequestAt: number | null;
  /** The first turn with beta's token for the same conversation carrying the continuation prompt. */
  readonly continuationTurnAt: number | null;
  readonly stopFailureReceivedAt: number | null;
  /** The daemon's 'usage limit detected (<source>)' line. */
  readonly detectedAt: number | null;
  readonly detectedBy: string | null;
  /** The swap's journal steps as the switcher took them. */
  readonly steps: Partial<Record<SwapStep, number>>;
  /** The pool's 'session started' line for the relaunch on beta. */
  readonly relaunchedAt: number | null;
  /** The new process's SessionStart hook reached the daemon. */
  readonly sessionStartReceivedAt: number | null;
  /** The pool first typed the continuation: its readiness check passed. */
  readonly continuationTypedAt: number | null;
  /** The last time it typed it (the same unless Claude Code lost the first: no confirmation within the pool's wait). */
  readonly continuationLastTypedAt: number | null;
  readonly continuationTypings: number;
  /** The continuation's UserPromptSubmit reached the daemon. */
  readonly continuationSubmitReceivedAt: number | null;
  /** Hook delivery samples of this run: when the CLI was given cause to fire, when the daemon had it. */
  readonly hookSamples: readonly HookSample[];
}

export interface HookSample {
  readonly event: 'UserPromptSubmit' | 'Stop' | 'StopFailure';
  /** What started it: the Enter key typed, the answer or the 429 sent by the stand-in. */
  readonly causeAt: number;
  readonly receivedAt: number | null;
}

/** Text, then Enter, as a person types it; returns when the Enter key was sent (just before the tmux call). */
async function typePrompt(socket: string, session: string, text: string): Promise<number> {
  await run('tmux', ['-L', socket, 'send-keys', '-t', `=${session}:`, '-l', '--', text]);
  const at = Date.now();
  await run('tmux', ['-L', socket, 'send-keys', '-t', `=${session}:`, 'Enter']);
  return at;
}

/** Records when the pool types `prompt` (its readiness check has passed by then): the text is sent literally (`-l`), its Enter apart. */
function watchTyping(tmux: TmuxClient, prompt: string): number[] {
  const typed: number[] = [];
  const mutable = tmux as { sendKeys: TmuxClient['sendKeys'] };
  const original = tmux.sendKeys.bind(tmux);
  mutable.sendKeys = (target, keys) => {
    if (keys[0] === '-l' && keys.at(-1) === prompt) typed.push(Date.now());
    return original(target, keys);
  };
  return typed;
}

export interface LimitTrialOptions {
  readonly continuationTimeoutMs: number;
  /** How long the stand-in holds alpha's request before its 429 (0: at once, as a quota 429 comes). */
  readonly limitDelayMs: number;
  readonly onFailure: (diagnostics: string) => void;
}

export async function limitTrial(claude: RealClaude, options: LimitTrialOptions): Promise<LimitTrial> {
  const steps: Partial<Record<SwapStep, number>> = {};
  const sandbox: RealSandbox = await startRealSandbox({
    claude,
    accounts: ['alpha', 'beta'],
    dedicated: ['web'],
    daemon: { onStep: (step) => { steps[step] ??= Date.now(); } },
  });
  try {
    const trial = await measure(sandbox, steps, options);
    if (trial.firstBetaRequestAt === null) options.onFailure(sandbox.diagnostics());
    return trial;
  } catch (err) {
    options.onFailure(sandbox.diagnostics());
    throw err;
  } finally {
    await sandbox.close();
  }
}

async function measure(sandbox: RealSandbox, steps: Partial<Record<SwapStep, number>>, { continuationTimeoutMs, limitDelayMs }: LimitTrialOptions): Promise<LimitTrial> {
  const { standIn, config, socket, daemon } = sandbox;
  const alpha = tokenOf('alpha');
  const beta = tokenOf('beta');
  const resumePrompt = config.claude.resumePrompt;
  const typed = watchTyping(daemon.tmux, resumePrompt);
  await waitForIdle(sandbox, ['web']);
  const id = sandbox.sessionIdOf('web');

  // A first exchange on alpha: UserPromptSubmit and Stop from the real CLI.
  const helloTypedAt = await typePrompt(socket, 'web', 'Say hello to the bench');
  const hello = await waitForTurn(sandbox, 'the first prompt at the stand-in', (r) => includesPrompt(r, 'Say hello to the bench'), 30_000);
  await waitForIdle(sandbox, ['web']);
  await waitFor(() => hookReceivedAt(readDaemonLog(sandbox.daemonLog), 'Stop', id, hello.at), { timeoutMs: 10_000, what: 'the Stop hook of the first answer' });

  // The task: alpha answers with its 5-hour limit (at once, or after limitDelayMs of "working").
  standIn.addRule(alpha, { match: (r) => r.hasTools && includesPrompt(r, 'TASK-BENCH'), reply: { kind: 'limit', claim: 'five_hour', resetsAt: nowSeconds() + 3600, delayMs: limitDelayMs } });
  const taskTypedAt = await typePrompt(socket, 'web', 'TASK-BENCH: refactor the parser');
  // Recorded on arrival; its status is set once the stand-in has answered.
  const limited = await waitForTurn(sandbox, "alpha's 429", (r) => r.token === alpha && includesPrompt(r, 'TASK-BENCH') && r.status !== 0, 30_000 + limitDelayMs);
  if (limited.status !== 429 || limited.sessionId !== id) throw new Error(`alpha's task request was answered ${String(limited.status)} for session ${String(limited.sessionId)}`);

  const continuation = await waitFor(() => standIn.messageRequests({ token: beta, sessionId: id }).find((r) => r.hasTools && includesPrompt(r, resumePrompt)), {
    timeoutMs: continuationTimeoutMs,
    intervalMs: 20,
    what: "the continuation with beta's token",
  }).catch(() => null);
  // The swap's last lines (the delivery, the commit) land after the continuation's request.
  await waitFor(() => sandbox.outcomes.length > 0, { timeoutMs: continuationTimeoutMs, what: 'the swap outcome' }).catch(() => undefined);
  const log = readDaemonLog(sandbox.daemonLog);
  // The stand-in records a request when it arrives and sends the 429 after the delay.
  const t0 = limited.at + limitDelayMs;
  const firstBeta = standIn.requests.find((r) => r.token === beta && r.sessionId === id && r.at >= t0) ?? null;
  const detected = log.find((r) => r.msg.startsWith('usage limit detected') && r.time >= t0) ?? null;
  const typings = typed.filter((t) => t >= t0);
  const typedAt = typings[0] ?? null;
  const lastTypedAt = typings.at(-1) ?? null;
  const hookSamples: HookSample[] = [
    { event: 'UserPromptSubmit', causeAt: helloTypedAt, receivedAt: hookReceivedAt(log, 'UserPromptSubmit', id, helloTypedAt) },
    { event: 'Stop', causeAt: hello.at, receivedAt: hookReceivedAt(log, 'Stop', id, hello.at) },
    { event: 'UserPromptSubmit', causeAt: taskTypedAt, receivedAt: hookReceivedAt(log, 'UserPromptSubmit', id, taskTypedAt) },
    { event: 'StopFailure', causeAt: t0, receivedAt: hookReceivedAt(log, 'StopFailure', id, t0) },
  ];
  return {
    limitSentAt: t0,
    firstBetaRequestAt: firstBeta?.at ?? null,
    continuationTurnAt: continuation?.at ?? null,
    stopFailureReceivedAt: hookReceivedAt(log, 'StopFailure', id, t0),
    detectedAt: detected?.time ?? null,
    detectedBy: typeof detected?.source === 'string' ? detected.source : null,
    steps,
    relaunchedAt: firstLogAt(log, 'session started', t0, (r) => r.session === 'web'),
    sessionStartReceivedAt: hookReceivedAt(log, 'SessionStart', id, t0),
    continuationTypedAt: typedAt,
    continuationLastTypedAt: lastTypedAt,
    continuationTypings: typings.length,
    continuationSubmitReceivedAt: lastTypedAt === null ? null : hookReceivedAt(log, 'UserPromptSubmit', id, lastTypedAt),
    hookSamples,
  };
}
