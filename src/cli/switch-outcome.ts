import { z } from 'zod';
import { FailoverError } from '../errors.js';
import type { SwitchOutcome } from '../switcher/types.js';

// The daemon's answer to `switch` has crossed the control socket as JSON: its dates are
// strings. Read it back into the type it claims to be, or say what is wrong with it.
const date = z.iso.datetime().transform((value) => new Date(value));

const relaunch = z.object({
  name: z.string(),
  sessionId: z.string().nullable(),
  resumed: z.boolean(),
  prompted: z.boolean(),
  continuation: z.enum(['not-needed', 'delivered', 'not-delivered']),
  ok: z.boolean(),
  error: z.string().nullable(),
});

const switchOutcome: z.ZodType<SwitchOutcome> = z.discriminatedUnion('result', [
  z.object({ result: z.literal('done'), from: z.string().nullable(), to: z.string(), sessions: z.array(relaunch) }),
  z.object({ result: z.enum(['cancelled', 'partial']), from: z.string().nullable(), to: z.string(), reason: z.string() }),
  z.object({ result: z.literal('no-target'), retryAt: date.nullable() }),
  z.object({ result: z.enum(['skipped', 'refused']), reason: z.string() }),
  z.object({ result: z.literal('deferred'), until: date, reason: z.string() }),
]);

export function readSwitchOutcome(answer: unknown): SwitchOutcome {
  const parsed = switchOutcome.safeParse(answer);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  throw new FailoverError('BAD_DAEMON_ANSWER', `the daemon's answer is not a switch outcome: ${where}${issue?.message ?? 'unreadable'}`);
}
