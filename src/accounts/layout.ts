import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { join } from 'node:path';
import type { AccountLayout } from './account-layout.js';
import { installedCommands } from '../claude/self-command.js';
import { describeError, FailoverError } from '../errors.js';
import { flipLink, readLink } from './link.js';
import { ensureSharedLinks, refuseLinkedSharedDir, SHARED_NAMES, verifySharedLinks } from './shared-links.js';
import { prepareAccount } from './prepare.js';
import { proveDirWritable } from './write-probe.js';

/**
 * The filesystem half of a swap, as the switcher uses it. A shared dir that is a symbolic
 * link is refused here, so a daemon never starts over one (SHARED_LINK_SHARED_DIR_IS_LINK).
 */
export function createAccountLayout(config: Config, logger: Logger): AccountLayout {
  refuseLinkedSharedDir(config);
  return {
    linkedAccount: async () => {
      const state = await readLink(config);
      return state.kind === 'account' ? state.account.name : null;
    },
    flipLink: (account: Account) => flipLink(config, account.home),
    prepareTarget: async (account: Account) => {
      const report = await ensureSharedLinks(config, account.home);
      for (const conflict of report.conflicts) logger.warn({ account: account.name, conflict }, 'shared state name clash: both files kept');
      // A link made right on the way (dangling, a loop, pointing elsewhere) is a repair an operator should hear of.
      for (const action of report.actions) {
        if (action.action !== 'ok') logger.warn({ account: account.name, link: action.name, action: action.action, detail: action.detail ?? null }, `${account.name}'s shared link ${action.name} ${action.action}`);
      }
      await prepareAccount(config, account, installedCommands(config));
      await proveWritable(account);
      const problems = await verifySharedLinks(config, account.home);
      if (problems.length > 0) throw new FailoverError('TARGET_NOT_READY', `${account.name} is not ready: ${problems.join('; ')}`);
    },
  };
}

/**
 * Claude Code writes into its home all the time (.claude.json, sessions/, todos) and its
 * conversations into the shared dirs: a home or shared dir it cannot write to (an immutable
 * dir, a read-only mount, a full disk) kills every session after the swap. Prepared settings
 * that were already right write nothing, so each is probed itself.
 */
async function proveWritable(account: Account): Promise<void> {
  const where = [{ what: 'home', dir: account.home }, ...SHARED_NAMES.map((name) => ({ what: `shared ${name}`, dir: join(account.home, name) }))];
  for (const { what, dir } of where) {
    try {
      await proveDirWritable(dir);
    } catch (err) {
      throw new FailoverError('TARGET_NOT_WRITABLE', `${account.name}'s ${what} ${dir} is not writable: ${describeError(err)}`, { cause: err });
    }
  }
}
