import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';

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
