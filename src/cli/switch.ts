import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function switchCommand(): Command {
  return new Command('switch').description('(not built yet)').action(() => notYet('switch'));
}
