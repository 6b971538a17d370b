import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function detectCommand(): Command {
  return new Command('detect').description('(not built yet)').action(() => notYet('detect'));
}
