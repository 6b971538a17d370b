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

