/**
 * A periodic duty that never overlaps itself: `run()` starts it, or joins the run in
 * flight; `running()` is that run (done when there is none), for a clean stop.
 */
export function oneAtATime(work: () => Promise<void>): { run(): Promise<void>; running(): Promise<void> } {
  let current: Promise<void> | null = null;
  return {
    run: () => (current ??= work().finally(() => { current = null; })),
    running: () => current ?? Promise.resolve(),
  };
}
