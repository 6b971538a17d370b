import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function doctorCommand(): Command {
  return new Command('doctor').description('(not built yet)').action(() => notYet('doctor'));
}
