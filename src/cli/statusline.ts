import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { runStatuslineRelay } from '../relay/relay.js';

// main.ts runs the relay through a fast path that loads nothing else; this registration gives --help.
export function statuslineCommand(): CommandUnknownOpts {
  return new Command('statusline')
    .description('Claude Code\'s statusline (installed by init when the daemon\'s HTTP listener is not known; otherwise a\nbash script in the state dir does the same without Node): forwards usage figures to the daemon and prints\nthe user\'s own statusline when one was chained, else a short one of ours.')
    .option('--socket <path>', 'the daemon\'s control socket')
    .option('--chain <command>', 'the statusline command the user had before (run with sh -c, same stdin)')
    .action(async () => {
      await runStatuslineRelay(process.argv.slice(process.argv.indexOf('statusline') + 1));
    });
}
