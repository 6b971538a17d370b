import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/types.js';
import { shellJoin, shellQuote } from './shell-quote.js';

/** Marks the hook and statusline entries we install, so re-running `init` replaces only ours. */
export const INSTALLED_MARK = '# claude-failover';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * argv that runs this CLI again from a hook: the built entry when there is one (fast start,
 * which a hook run on every prompt and answer needs), else the TypeScript source through tsx.
 */
export function selfArgv(): string[] {
  // Built, this file is dist/claude/self-command.js and the entry dist/cli/main.js.
  const builtBeside = resolve(here, '../cli/main.js');
  if (existsSync(builtBeside)) return [process.execPath, builtBeside];
  const built = resolve(here, '../../dist/cli/main.js');
  if (existsSync(built)) return [process.execPath, built];
  return [process.execPath, '--import', 'tsx', resolve(here, '../cli/main.ts')];
}

export function daemonSocketPath(config: Config): string {
  return join(config.stateDir, 'daemon.sock');
}

/** What account preparation installs into each account's settings.json. */
export interface InstalledCommands {
  /** The command line for one hook event (SessionStart, UserPromptSubmit, Stop, StopFailure). */
  hookCommand(event: string): string;
  /** The statusline command line, chaining to the user's own statusline when there was one. */
  statusLineCommand(userStatusLine: string | null): string;
}

export function installedCommands(config: Config, argv: readonly string[] = selfArgv()): InstalledCommands {
  const prefix = `${shellJoin(argv)} --socket ${shellQuote(daemonSocketPath(config))}`;
  return {
    hookCommand: (event) => `${shellJoin(argv)} hook --socket ${shellQuote(daemonSocketPath(config))} ${shellQuote(event)} ${INSTALLED_MARK}`,
    statusLineCommand: (userStatusLine) =>
      `${prefix.replace(' --socket', ' statusline --socket')}${userStatusLine ? ` --chain ${shellQuote(userStatusLine)}` : ''} ${INSTALLED_MARK}`,
  };
}
