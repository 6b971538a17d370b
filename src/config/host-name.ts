import { hostname } from 'node:os';

/**
 * This machine's name as a fleet host name (`fleet.host` when unset): the first label of the
 * hostname, with anything outside letters, digits, `_` and `-` made `-`.
 */
export function defaultHostName(): string {
  const first = hostname().split('.')[0] ?? '';
  const safe = first.replace(/[^A-Za-z0-9_-]/g, '-');
  return safe === '' ? 'host' : safe;
}
