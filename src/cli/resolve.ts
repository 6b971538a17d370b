import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function resolveCommand(): Command {
  return new Command('resolve').description('(not built yet)').action(() => notYet('resolve'));
}
