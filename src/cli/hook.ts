import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { runHookRelay } from '../relay/relay.js';

// program.ts imports both registrations from here.
export { statuslineCommand } from './statusline.js';

// main.ts runs the relay through a fast path that loads nothing else; this registration gives --help.
export function hookCommand(): CommandUnknownOpts {
  return new Command('hook')
    .description('called by Claude Code\'s command hooks (installed by init where the installed version has no HTTP hooks,\nand for SessionStart, which is never sent over HTTP): forwards the hook\'s JSON and $TMUX_PANE to the daemon.\nNever prints and always exits 0, daemon or not: at once once the event is passed on,\nwithin 2 s when stdin never closes or the daemon never reads.')
    .argument('<event>', 'SessionStart, UserPromptSubmit, Stop or StopFailure')
    .option('--socket <path>', 'the daemon\'s control socket')
    .action(async () => {
      await runHookRelay(process.argv.slice(process.argv.indexOf('hook') + 1));
    });
}
