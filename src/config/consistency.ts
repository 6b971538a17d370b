import type { Config } from './types.js';
import type { FieldPath } from './locate.js';
import { isSameOrInside } from './paths.js';

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|::1)$/;

/** Rules that span several fields, checked once every field is valid on its own. */
export function checkConsistency(config: Config): { path: FieldPath; message: string }[] {
  const problems: { path: FieldPath; message: string }[] = [];
  const add = (path: FieldPath, message: string) => problems.push({ path, message });

  const names = new Map<string, number>();
  const homes = new Map<string, number>();
  config.accounts.forEach((account, i) => {
    const sameName = names.get(account.name);
    if (sameName !== undefined) add(['accounts', i, 'name'], `duplicate account name "${account.name}" (also accounts[${sameName}])`);
    else names.set(account.name, i);
    const sameHome = homes.get(account.home);
    if (sameHome !== undefined) add(['accounts', i, 'home'], `two accounts share the home ${account.home} (also accounts[${sameHome}]); each login needs its own home`);
    else homes.set(account.home, i);
    if (account.home === config.link) add(['accounts', i, 'home'], `is the link itself (${config.link}); an account home must be a separate directory`);
    if (isSameOrInside(account.home, config.sharedDir)) add(['accounts', i, 'home'], `lies inside sharedDir (${config.sharedDir})`);
    else if (isSameOrInside(config.sharedDir, account.home)) add(['sharedDir'], `lies inside the home of account "${account.name}"`);
    config.accounts.forEach((other, j) => {
      if (j !== i && other.home !== account.home && isSameOrInside(account.home, other.home)) {
        add(['accounts', i, 'home'], `lies inside the home of account "${other.name}" (${other.home})`);
      }
    });
  });

  const auto = config.pool.autonomous;
  if (auto.min > auto.max) add(['pool', 'autonomous', 'min'], `min (${auto.min}) is greater than max (${auto.max})`);
  const dedicatedNames = new Map<string, number>();
  config.pool.dedicated.forEach((d, i) => {
    const same = dedicatedNames.get(d.name);
    if (same !== undefined) add(['pool', 'dedicated', i, 'name'], `duplicate session name "${d.name}" (also pool.dedicated[${same}])`);
    else dedicatedNames.set(d.name, i);
    if (d.name.startsWith(auto.prefix)) {
      const rest = d.name.slice(auto.prefix.length);
      const n = /^\d+$/.test(rest) ? Number(rest) : NaN;
      if (n >= auto.startIndex && n < auto.startIndex + auto.max) {
        add(['pool', 'dedicated', i, 'name'], `"${d.name}" is also an autonomous session (${auto.prefix}${auto.startIndex}..${auto.prefix}${auto.startIndex + auto.max - 1})`);
      }
    }
  });

  const { host, port } = config.server;
  if (port > 65535) add(['server', 'listen'], `port ${port} is out of range (0-65535; 0 picks a free port)`);
  if (!LOOPBACK.test(host) && config.server.token === null) {
    add(['server', 'listen'], `listens on ${host}, which is not loopback, without server.token; set a token or listen on 127.0.0.1`);
  }
  return problems;
}
