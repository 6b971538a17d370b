import { Command } from '@commander-js/extra-typings';
import { runInit } from '../accounts/init.js';
import { installedClaude } from '../accounts/prepare.js';
import { loginCommand } from '../accounts/login-command.js';
import { describeError } from '../errors.js';
import { installedCommands } from '../claude/self-command.js';
import { configFor } from './shared.js';

export function initCommand(): Command {
  return new Command('init')
    .summary('set up the account homes, shared dir and link')
    .description(
      'Sets up the layout: the shared dir; every account home with its links into the shared dir, a pre-seeded .claude.json and a settings.json carrying the daemon\'s hooks and statusline; and the ~/.claude link.\n\n' +
        'Writes only what the installed Claude Code accepts (it asks `claude.command --version`): hooks over HTTP to the daemon\'s loopback listener where it can (server.listen with a fixed port), hook commands otherwise.\n\n' +
        'A real ~/.claude is migrated into the first account without losing a file. Safe to run again; --dry-run changes nothing.',
    )
    .option('--dry-run', 'print every step and change nothing')
    .action(async (opts, command) => {
      const config = configFor(command);
      const dryRun = opts.dryRun === true;
      try {
        const claude = await installedClaude(config);
        for (const warning of claude.warnings) process.stdout.write(`note: ${warning}\n`);
        const { steps, loginNeeded } = await runInit(config, { dryRun, claude, commands: installedCommands(config), log: (line) => process.stdout.write(`  ${line}\n`) });
        if (steps.length === 0) process.stdout.write('nothing to do: the layout is already in place\n');
        if (loginNeeded.length > 0) {
          process.stdout.write('\nleft for you: log in each account that has no credentials yet, one at a time:\n');
          for (const a of loginNeeded) process.stdout.write(`  ${loginCommand(config, a)}     then type /login   (account ${a.name})\n`);
        }
        if (dryRun) process.stdout.write('\n(dry run: nothing was changed)\n');
      } catch (err) {
        process.stderr.write(`claude-failover init: ${describeError(err)}\n`);
        process.exitCode = 1;
      }
    });
}
