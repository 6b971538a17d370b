import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function hookCommand(): Command {
  return new Command('hook').description('(not built yet)').action(() => notYet('hook'));
}
