import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { configCommand } from './config-check.js';
import { initCommand } from './init.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';
import { switchCommand } from './switch.js';
import { resolveCommand } from './resolve.js';
import { doctorCommand } from './doctor.js';
import { detectCommand } from './detect.js';
import { hookCommand, statuslineCommand } from './hook.js';
import { demoCommand } from './demo.js';
import { taskCommand } from './task.js';
import { serviceCommand } from './service.js';
import { fleetCommand } from './fleet.js';
import { describeError } from '../errors.js';

/** A paragraph's line breaks become spaces (a blank line still ends it): commander wraps to the terminal. */
function reflow(text: string): string {
  return text.replace(/([^\n])\n(?=[^\n])/g, '$1 ');
}

/**
 * Help that reads well at any width: the command list shows each command's one-line summary,
 * `help <command>` its description as paragraphs wrapped to the terminal, never at a line
 * break written into the text.
 */
function flowingHelp(command: CommandUnknownOpts): void {
  command.configureHelp({
    commandDescription: (cmd) => reflow(cmd.description()),
    subcommandDescription: (cmd) => reflow(cmd.summary() || cmd.description()),
  });
  for (const sub of command.commands) flowingHelp(sub);
}

export function buildProgram(): Command<[], { config?: string }> {
  const program = new Command()
    .name('claude-failover')
    .description(
      'Keeps Claude Code sessions in tmux working across several subscription accounts: detects usage limits, moves every managed session to an account with quota left, resumes each conversation, and returns to the preferred account after its reset.\n\n' +
        'The config file is --config FILE, else $CLAUDE_FAILOVER_CONFIG, else $XDG_CONFIG_HOME/claude-failover/config.yaml (~/.config when XDG_CONFIG_HOME is not set). Run `claude-failover help <command>` for what a command does in full.',
    )
    .option('-c, --config <file>', 'the config file (default: see above)')
    .showHelpAfterError();
  program.addCommand(configCommand());
  program.addCommand(initCommand());
  program.addCommand(runCommand());
  program.addCommand(statusCommand());
  program.addCommand(switchCommand());
  program.addCommand(resolveCommand());
  program.addCommand(taskCommand());
  program.addCommand(serviceCommand());
  program.addCommand(fleetCommand());
  program.addCommand(doctorCommand());
  program.addCommand(detectCommand());
  program.addCommand(hookCommand().summary('forward a Claude Code hook to the daemon'));
  program.addCommand(statuslineCommand().summary('Claude Code\'s statusline: usage to the daemon'));
  program.addCommand(demoCommand());
  flowingHelp(program);
  return program;
}


/**
 * Runs the CLI. A fault no command handled (a state dir inside a symlink loop, a disk that
 * refuses a write) is one line naming the command and what went wrong, and exit 1: never a
 * stack trace.
 */
export async function runProgram(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  let running = 'claude-failover';
  program.hook('preAction', (_program, action) => {
    const names: string[] = [];
    for (let node: typeof action | null = action; node; node = node.parent) names.unshift(node.name());
    running = names.join(' ');
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.stderr.write(`${running}: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}
