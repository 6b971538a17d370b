import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function statusCommand(): Command {
  return new Command('status').description('(not built yet)').action(() => notYet('status'));
}
