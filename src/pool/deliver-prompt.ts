import type { TmuxClient } from '../tmux/client.js';
import { promptInTranscript } from '../claude/conversation-tail.js';
import type { PromptReceipts } from './prompt-receipts.js';

export interface DeliveryDeps {
  readonly tmux: TmuxClient;
  readonly receipts: PromptReceipts;
  readonly sleep: (ms: number) => Promise<void>;
  /** How many times the prompt is typed before it is given up on. */
  readonly attempts?: number;
  /** How long each attempt waits for Claude Code to confirm the prompt. */
  readonly confirmMs?: number;
}

export interface Delivery {
  readonly delivered: boolean;
  readonly attempts: number;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_CONFIRM_MS = 4000;
const CHECK_EVERY_MS = 50;
/** The transcript is read less often than the in-memory receipts are checked. */
const TRANSCRIPT_EVERY = 5;

/**
 * Types `prompt` into a session's pane and waits for Claude Code to confirm it: its
 * `UserPromptSubmit` hook, or the prompt written into its transcript. An Enter typed before
 * Claude Code reads its input is lost, so an unconfirmed prompt is typed again (its input
 * line cleared first), a bounded number of times. Times are wall-clock (they are compared with the
 * transcript's own timestamps).
 */
export async function deliverPrompt(deps: DeliveryDeps, session: { readonly name: string; readonly target: string; readonly transcript: () => Promise<string | null> }, prompt: string): Promise<Delivery> {
  const attempts = deps.attempts ?? DEFAULT_ATTEMPTS;
  const confirmMs = deps.confirmMs ?? DEFAULT_CONFIRM_MS;
  const firstTypedAt = Date.now();
  const confirmed = async (check: number): Promise<boolean> => {
    if (deps.receipts.received(session.name, prompt, firstTypedAt)) return true;
    if (check % TRANSCRIPT_EVERY !== 0) return false;
    // Looked up each time: a /clear just before gives the conversation a new id, and a new file.
    const transcript = await session.transcript();
    // A second of slack: the transcript's clock and ours are the same host's, but rounded.
    return transcript !== null && promptInTranscript(transcript, prompt, new Date(firstTypedAt - 1000));
  };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    // Text typed too early stays in Claude Code's input line (only its Enter is lost): a retry
    // clears the line first, or the prompt would be submitted twice over.
    if (attempt > 1) await deps.tmux.sendKeys(session.target, ['C-u']);
    await deps.tmux.sendText(session.target, prompt);
    const deadline = Date.now() + confirmMs;
    for (let check = 1; Date.now() < deadline; check++) {
      await deps.sleep(CHECK_EVERY_MS);
      if (await confirmed(check)) return { delivered: true, attempts: attempt };
    }
    // One last look at the transcript before typing again: a slow write is not a lost prompt.
    if (await confirmed(0)) return { delivered: true, attempts: attempt };
  }
  return { delivered: false, attempts };
}
