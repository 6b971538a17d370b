import { Command } from '@commander-js/extra-typings';
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
import { describeError } from '../errors.js';

export function buildProgram(): Command<[], { config?: string }> {
  const program = new Command()
    .name('claude-failover')
    .description(
      'Keeps Claude Code sessions in tmux working across several subscription accounts:\n' +
        'detects usage limits, moves every managed session to an account with quota left,\n' +
        'resumes each conversation, and returns to the preferred account after its reset.',
    )
    .option(
      '-c, --config <file>',
      'config file (default: $CLAUDE_FAILOVER_CONFIG, else $XDG_CONFIG_HOME/claude-failover/config.yaml)',
    )
    .showHelpAfterError();
  program.addCommand(configCommand());
  program.addCommand(initCommand());
  program.addCommand(runCommand());
  program.addCommand(statusCommand());
  program.addCommand(switchCommand());
  program.addCommand(resolveCommand());
  program.addCommand(doctorCommand());
  program.addCommand(detectCommand());
  program.addCommand(hookCommand());
  program.addCommand(statuslineCommand());
  program.addCommand(demoCommand());
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
