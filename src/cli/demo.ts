import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { runDemo } from './demo-run.js';

function resetSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 20 || n > 3600) throw new InvalidArgumentError('a whole number of seconds from 20 to 3600');
  return n;
}

export function demoCommand(): Command {
  return new Command('demo')
    .summary('a sandboxed demo of a limit, a swap and a return')
    .description(
      'The sandboxed demo: three simulated accounts (a fake Claude Code with small quotas), three sessions in a private tmux server, and the real daemon. Watch the limit, the swap, the resumed conversations and the return to the preferred account after its reset (about a minute and a half).\n\n' +
        'Everything lives in a temp dir and is removed at the end, or when it is stopped with Ctrl-C (it then exits non-zero); nothing of yours is touched.',
    )
    .option('--keep', 'leave the sessions running at the end (Ctrl-C stops only the daemon), and print how to attach')
    .option('--reset-seconds <seconds>', 'seconds until the preferred account\'s quota resets (default 45)', resetSeconds)
    .action(async (opts) => {
      const code = await runDemo({
        keep: opts.keep === true,
        out: (line) => process.stdout.write(line + '\n'),
        ...(opts.resetSeconds !== undefined ? { resetSeconds: opts.resetSeconds } : {}),
      });
      // Everything is stopped and cleaned up by now; a timer left behind must not hold the exit.
      process.exit(code);
    });
}
