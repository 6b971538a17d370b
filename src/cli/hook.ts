import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { runHookRelay, runStatuslineRelay } from '../relay/relay.js';

// main.ts runs these through a fast path that loads nothing else; these registrations give --help.
export function hookCommand(): CommandUnknownOpts {
  return new Command('hook')
    .description('called by Claude Code\'s hooks (installed by init): forwards the hook\'s JSON and $TMUX_PANE to the daemon.\nAlways exits 0 within 100 ms, daemon or not.')
    .argument('<event>', 'SessionStart, UserPromptSubmit, Stop or StopFailure')
    .option('--socket <path>', 'the daemon\'s control socket')
    .action(async () => {
      await runHookRelay(process.argv.slice(2));
    });
}

export function statuslineCommand(): CommandUnknownOpts {
  return new Command('statusline')
    .description('Claude Code\'s statusline (installed by init): forwards usage figures to the daemon and prints\nthe user\'s own statusline when one was chained.')
    .option('--socket <path>', 'the daemon\'s control socket')
    .option('--chain <command>', 'the statusline command the user had before')
    .action(async () => {
      await runStatuslineRelay(process.argv.slice(2));
    });
}
