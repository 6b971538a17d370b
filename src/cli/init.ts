import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function initCommand(): Command {
  return new Command('init').description('(not built yet)').action(() => notYet('init'));
}
