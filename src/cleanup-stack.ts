import type { Logger } from './log.js';
import { describeError } from './errors.js';

/** Undo steps, run newest first; a failing one is logged and the rest still run. */
export function cleanupStack(logger: Logger) {
  const steps: (() => Promise<void> | void)[] = [];
  return {
    push: (step: () => Promise<void> | void) => steps.push(step),
    run: async () => {
      for (const step of steps.splice(0).reverse()) {
        try {
          await step();
        } catch (err) {
          logger.warn({ err: describeError(err) }, 'cleanup failed');
        }
      }
    },
  };
}
