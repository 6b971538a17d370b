import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { AccountLayout } from '../switcher/switcher.js';
import { installedCommands } from '../cli/self-command.js';
import { FailoverError } from '../errors.js';
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
      const problems = await verifySharedLinks(config, account.home);
      if (problems.length > 0) throw new FailoverError('TARGET_NOT_READY', `${account.name} is not ready: ${problems.join('; ')}`);
    },
  };
}
