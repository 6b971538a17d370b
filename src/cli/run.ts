import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function runCommand(): Command {
  return new Command('run').description('(not built yet)').action(() => notYet('run'));
}
