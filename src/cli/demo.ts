import { Command } from '@commander-js/extra-typings';
import { runDemo } from '../demo/demo.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'the sandboxed demo: three simulated accounts (a fake Claude Code with small quotas), three sessions\n' +
        'in a private tmux server, and the real daemon. Watch the limit, the swap, the resumed conversations\n' +
        'and the return to the preferred account after its reset (about a minute and a half). Everything\n' +
        'lives in a temp dir and is removed at the end; nothing of yours is touched.',
    )
    .option('--keep', 'leave the daemon and the sessions running at the end, and print how to attach')
    .action(async (opts) => {
      process.exitCode = await runDemo({ keep: opts.keep === true, out: (line) => process.stdout.write(line + '\n') });
    });
}
