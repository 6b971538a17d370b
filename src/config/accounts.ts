import type { Account, Config } from './types.js';

/** The configured account of that name, if any. */
export function accountNamed(config: Config, name: string | null | undefined): Account | undefined {
  return config.accounts.find((a) => a.name === name);
}

/** The first account: the one the pool returns to. The config guarantees there is one. */
export function preferredAccount(config: Config): Account {
  const first = config.accounts[0];
  if (!first) throw new Error('no accounts configured');
  return first;
}
