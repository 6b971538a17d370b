import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountLayout } from './account-layout.js';
import { installedCommands } from '../claude/self-command.js';
import { describeError, FailoverError } from '../errors.js';
import { flipLink, readLink } from './link.js';
import { ensureSharedLinks, verifySharedLinks } from './shared-links.js';
import { prepareAccount } from './prepare.js';

/** The filesystem half of a swap, as the switcher uses it. */
export function createAccountLayout(config: Config, logger: Logger): AccountLayout {
  return {
    linkedAccount: async () => {
      const state = await readLink(config);
      return state.kind === 'account' ? state.account.name : null;
    },
    flipLink: (account: Account) => flipLink(config, account.home),
    prepareTarget: async (account: Account) => {
      const report = await ensureSharedLinks(config, account.home);
      for (const conflict of report.conflicts) logger.warn({ account: account.name, conflict }, 'shared state name clash: both files kept');
      await prepareAccount(config, account, installedCommands(config));
      await proveWritable(account);
      const problems = await verifySharedLinks(config, account.home);
      if (problems.length > 0) throw new FailoverError('TARGET_NOT_READY', `${account.name} is not ready: ${problems.join('; ')}`);
    },
  };
}

/**
 * Claude Code writes into its home all the time (.claude.json, sessions/, todos): a home it
 * cannot write to (an immutable dir, a read-only mount) kills every session after the swap.
 * Prepared settings that were already right write nothing, so the home is probed itself.
 */
async function proveWritable(account: Account): Promise<void> {
  const probe = join(account.home, `.claude-failover-probe-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    throw new FailoverError('TARGET_NOT_WRITABLE', `${account.name}'s home ${account.home} is not writable: ${describeError(err)}`, { cause: err });
  }
  await rm(probe, { force: true });
}
