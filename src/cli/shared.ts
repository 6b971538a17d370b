import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';

/** A command a later issue builds: say so plainly and exit 2, never pretend. */
export function notYet(name: string): never {
  process.stderr.write(`claude-failover ${name}: not built yet in this version.\n`);
  process.exit(2);
}

/** The part of a commander Command these helpers read: options up the command tree. */
export interface CommandLike {
  opts(): object;
  readonly parent: CommandLike | null;
}

/** The global --config option, wherever the command sits in the tree. */
export function configOption(command: CommandLike): string | undefined {
  for (let node: CommandLike | null = command; node; node = node.parent) {
    const value = (node.opts() as { config?: unknown }).config;
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** Loads the config for a command, or prints every problem and exits 1. */
export function configFor(command: CommandLike): Config {
  const result = loadConfig({ flag: configOption(command) });
  if (!result.ok) {
    process.stderr.write(result.report + '\n');
    process.exit(1);
  }
  return result.config;
}
