import type { TmuxClient } from '../tmux/client.js';
import { promptInTranscript } from '../claude/conversation-tail.js';
import { limitMenuOpen } from '../claude/screen-state.js';
import type { PromptReceipts } from './prompt-receipts.js';

export interface DeliveryDeps {
  readonly tmux: TmuxClient;
  readonly receipts: PromptReceipts;
  readonly sleep: (ms: number) => Promise<void>;
  /** How many times Enter (or the whole prompt) is tried before it is given up on. */
  readonly attempts?: number;
  /** How long each attempt waits for Claude Code to confirm the prompt. */
  readonly confirmMs?: number;
  /**
   * The prompt was found in the transcript before its `UserPromptSubmit` hook came (hooks lag
   * on a busy machine): the session works now, and whoever keeps its state must know it before
   * the hook says so (a swap meanwhile would take it for idle and cut its turn short).
   */
  readonly confirmedByTranscript?: (session: string) => void;
}

export interface Delivery {
  readonly delivered: boolean;
  readonly attempts: number;
}

const DEFAULT_ATTEMPTS = 3;
// UserPromptSubmit comes within 0.4 s of the Enter (p95, real CLI, busy machine): 2 s is ample.
const DEFAULT_CONFIRM_MS = 2000;
/** How long typed text may take to show in the input line before Enter is sent anyway. */
const ECHO_MS = 3000;
const CHECK_EVERY_MS = 50;
/** What precedes the input line: `❯` (2.1.x), `>` inside a box (older versions). */
const INPUT_MARKERS = ['❯', '>'];
/** How long the rate-limit menu gets to close after its Escape. */
const MENU_CLOSE_MS = 1500;
/** The transcript is read less often than the in-memory receipts are checked. */
const TRANSCRIPT_EVERY = 5;

/** The screen without any whitespace: a prompt wrapped over lines is found all the same. */
function squeeze(text: string): string {
  return text.replace(/\s+/g, '');
}

function occurrences(haystack: string, needle: string): number {
  return needle === '' ? 0 : haystack.split(needle).length - 1;
}

/**
 * Types `prompt` into a session's pane and waits for Claude Code to confirm it: its
 * `UserPromptSubmit` hook, or the prompt written into its transcript.
 *
 * Enter goes in a write of its own, only once the text shows in the input line: keys that
 * reach Claude Code in one read (text and Enter typed while it was still busy starting) are
 * taken as a paste, and the Enter becomes a newline in the input instead of submitting it.
 * An unconfirmed prompt whose text still sits in the input line gets Enter again; one that
 * never showed is typed again. Nothing is cleared (older versions take Ctrl-U as a character).
 * The rate-limit menu Claude Code opens by itself (over a resumed conversation's old limit)
 * takes every key but Escape and Enter: it is closed with Escape before each try, so nothing
 * typed is lost in it and no Enter picks one of its options.
 * Times are wall-clock (they are compared with the transcript's own timestamps).
 */
export async function deliverPrompt(deps: DeliveryDeps, session: { readonly name: string; readonly target: string; readonly transcript: () => Promise<string | null> }, prompt: string): Promise<Delivery> {
  const done = deps.receipts.typingInto(session.name);
  try {
    return await typeAndConfirm(deps, session, prompt);
  } finally {
    done();
  }
}

async function typeAndConfirm(deps: DeliveryDeps, session: { readonly name: string; readonly target: string; readonly transcript: () => Promise<string | null> }, prompt: string): Promise<Delivery> {
  const attempts = deps.attempts ?? DEFAULT_ATTEMPTS;
  const confirmMs = deps.confirmMs ?? DEFAULT_CONFIRM_MS;
  const firstTypedAt = Date.now();
  // In Claude Code's own input line (after its marker), not where the terminal echoed keys
  // typed before Claude Code took the keyboard.
  const head = squeeze(prompt).slice(0, 30);
  /** How many copies of the prompt's head follow an input marker, and whether the limit menu is open. */
  const look = async (): Promise<{ copies: number; menu: boolean }> => {
    const capture = await deps.tmux.capturePane(session.target, 60).catch(() => '');
    const screen = squeeze(capture);
    return { copies: INPUT_MARKERS.reduce((n, marker) => n + occurrences(screen, marker + head), 0), menu: limitMenuOpen(capture) };
  };
  const confirmed = async (check: number): Promise<boolean> => {
    if (deps.receipts.received(session.name, prompt, firstTypedAt)) return true;
    if (check % TRANSCRIPT_EVERY !== 0) return false;
    // Looked up each time: a /clear just before gives the conversation a new id, and a new file.
    const transcript = await session.transcript();
    // A second of slack: the transcript's clock and ours are the same host's, but rounded.
    const written = transcript !== null && (await promptInTranscript(transcript, prompt, new Date(firstTypedAt - 1000)));
    if (written) deps.confirmedByTranscript?.(session.name);
    return written;
  };
  const waitUntil = async (ms: number, done: (check: number) => Promise<boolean>): Promise<boolean> => {
    const deadline = Date.now() + ms;
    for (let check = 1; Date.now() < deadline; check++) {
      if (await done(check)) return true;
      await deps.sleep(CHECK_EVERY_MS);
    }
    return done(0);
  };
  const closeLimitMenu = async (): Promise<void> => {
    if (!(await look()).menu) return;
    await deps.tmux.sendKeys(session.target, ['Escape']);
    await waitUntil(MENU_CLOSE_MS, async () => !(await look()).menu);
  };
  // The prompt may already be on screen (an earlier turn in the history): count the copies.
  const before = (await look()).copies;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await closeLimitMenu();
    const waiting = (await look()).copies > before;
    if (!waiting) {
      await deps.tmux.sendKeys(session.target, ['-l', '--', prompt]);
      await waitUntil(ECHO_MS, async () => {
        const seen = await look();
        return seen.copies > before || seen.menu;
      });
    }
    // The menu opened under the typing: it took the keys, and an Enter would pick one of its options.
    if ((await look()).menu) continue;
    await deps.tmux.sendKeys(session.target, ['Enter']);
    if (await waitUntil(confirmMs, confirmed)) return { delivered: true, attempts: attempt };
  }
  return { delivered: false, attempts };
}
