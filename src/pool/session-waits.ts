import type { TmuxClient } from '../tmux/client.js';
import { TmuxError } from '../tmux/errors.js';
import { classifyScreen, type ScreenState } from '../claude/screen-state.js';

export interface ScreenWaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Polls a pane until its screen reaches one of `wanted`, or a state from which it will not
 * get there (`giveUpOn`), or the time runs out. Returns the last state seen.
 */
export async function waitForScreen(
  tmux: TmuxClient,
  target: string,
  wanted: readonly ScreenState[],
  giveUpOn: readonly ScreenState[],
  options: ScreenWaitOptions,
): Promise<{ reached: boolean; state: ScreenState | 'gone'; capture: string }> {
  const deadline = options.now().getTime() + options.timeoutMs;
  let state: ScreenState | 'gone' = 'unknown';
  let capture = '';
  for (;;) {
    try {
      const pane = await tmux.paneInfo(target);
      capture = await tmux.capturePane(target, 60);
      const seen = classifyScreen(capture, { now: options.now() }).state;
      // The pane runs Claude Code itself (exec): while it lives, an exit hint on screen is the
      // previous process's last words, not a shell. Only a dead pane means it has exited.
      state = pane.dead ? 'shell' : seen === 'shell' ? 'unknown' : seen;
    } catch (err) {
      // tmux too busy to answer in time (fifty panes relaunched on two cores) says nothing of
      // the pane: asked again until the wait's own deadline. Anything else: the pane is gone.
      state = err instanceof TmuxError && err.code === 'TMUX_TIMEOUT' ? 'unknown' : 'gone';
    }
    if (wanted.includes(state as ScreenState)) return { reached: true, state, capture };
    if (state === 'gone' || giveUpOn.includes(state)) return { reached: false, state, capture };
    if (options.now().getTime() > deadline) return { reached: false, state, capture };
    await options.sleep(options.intervalMs ?? 150);
  }
}

/** tmux's own line under a dead pane (remain-on-exit): not the process's words. */
const PANE_IS_DEAD = /^Pane is dead \(/;

/** The exit status tmux wrote under a dead pane ("Pane is dead (status 0, …)"), when the pane list did not give it. */
export function deadStatusIn(capture: string): number | null {
  const match = /^Pane is dead \(status (\d+)/m.exec(capture);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * The last few non-empty lines of a capture: what a failed launch said before it died.
 * Empty when it said nothing (tmux's "Pane is dead" line is not its words).
 */
export function lastWords(capture: string, lines = 6): string {
  return capture
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '' && !PANE_IS_DEAD.test(l.trim()))
    .slice(-lines)
    .join('\n');
}
