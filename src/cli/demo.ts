import { Command } from '@commander-js/extra-typings';
import { notYet } from './shared.js';

export function demoCommand(): Command {
  return new Command('demo').description('(not built yet)').action(() => notYet('demo'));
}
