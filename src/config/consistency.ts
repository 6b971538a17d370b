import { join } from 'node:path';
import type { FieldPath } from './locate.js';
import { isSameOrInside } from './paths.js';

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|::1)$/;

/**
 * What the cross-field rules read: each field resolved (paths absolute, defaults filled in),
 * or `undefined` when the field is invalid on its own (its own error is reported). A rule
 * runs whenever every field it reads is valid, so one bad field never hides another mistake.
 * A resolved `Config` fits this shape.
 */
export interface ConsistencyInput {
  readonly home: string | undefined;
  readonly sharedDir: string | undefined;
  readonly accounts: readonly { readonly name: string | undefined; readonly home: string | undefined }[];
  readonly pool: {
    readonly autonomous: {
      readonly prefix: string | undefined;
      readonly startIndex: number | undefined;
      readonly min: number | undefined;
      readonly max: number | undefined;
    };
    readonly dedicated: readonly { readonly name: string | undefined }[];
  };
  readonly server: { readonly host: string | undefined; readonly port: number | undefined; readonly token: string | null | undefined };
}

/** Rules that span several fields. */
export function checkConsistency(config: ConsistencyInput): { path: FieldPath; message: string }[] {
  const problems: { path: FieldPath; message: string }[] = [];
  const add = (path: FieldPath, message: string) => problems.push({ path, message });
  const link = config.home === undefined ? undefined : join(config.home, '.claude');
  const { sharedDir } = config;

  // A flip replaces the link: whatever lies at it or inside it is gone after the next swap.
  if (sharedDir !== undefined && link !== undefined && isSameOrInside(sharedDir, link)) {
    add(['sharedDir'], `is the link (${link}) or lies inside it; a flip would replace it`);
  }

  const names = new Map<string, number>();
  const homes = new Map<string, number>();
  config.accounts.forEach((account, i) => {
    if (account.name !== undefined) {
      const sameName = names.get(account.name);
      if (sameName !== undefined) add(['accounts', i, 'name'], `duplicate account name "${account.name}" (also accounts[${sameName}])`);
      else names.set(account.name, i);
    }
    const home = account.home;
    if (home === undefined) return;
    const who = account.name === undefined ? `accounts[${i}]` : `account "${account.name}"`;
    const sameHome = homes.get(home);
    if (sameHome !== undefined) add(['accounts', i, 'home'], `two accounts share the home ${home} (also accounts[${sameHome}]); each login needs its own home`);
    else homes.set(home, i);
    if (link !== undefined) {
      if (home === link) add(['accounts', i, 'home'], `is the link itself (${link}); an account home must be a separate directory`);
      else if (isSameOrInside(home, link)) add(['accounts', i, 'home'], `lies inside the link (${link}); a flip would replace it`);
    }
    if (sharedDir !== undefined) {
      if (isSameOrInside(home, sharedDir)) add(['accounts', i, 'home'], `lies inside sharedDir (${sharedDir})`);
      else if (isSameOrInside(sharedDir, home)) add(['sharedDir'], `lies inside the home of ${who}`);
    }
    config.accounts.forEach((other, j) => {
      if (j !== i && other.home !== undefined && other.home !== home && isSameOrInside(home, other.home)) {
        add(['accounts', i, 'home'], `lies inside the home of ${other.name === undefined ? `accounts[${j}]` : `account "${other.name}"`} (${other.home})`);
      }
    });
  });

  const auto = config.pool.autonomous;
  if (auto.min !== undefined && auto.max !== undefined && auto.min > auto.max) {
    add(['pool', 'autonomous', 'min'], `min (${auto.min}) is greater than max (${auto.max})`);
  }
  const dedicatedNames = new Map<string, number>();
  config.pool.dedicated.forEach((d, i) => {
    if (d.name === undefined) return;
    const same = dedicatedNames.get(d.name);
    if (same !== undefined) add(['pool', 'dedicated', i, 'name'], `duplicate session name "${d.name}" (also pool.dedicated[${same}])`);
    else dedicatedNames.set(d.name, i);
    if (auto.prefix === undefined || auto.startIndex === undefined || auto.max === undefined || !d.name.startsWith(auto.prefix)) return;
    const rest = d.name.slice(auto.prefix.length);
    const n = /^\d+$/.test(rest) ? Number(rest) : NaN;
    if (n >= auto.startIndex && n < auto.startIndex + auto.max) {
      add(['pool', 'dedicated', i, 'name'], `"${d.name}" is also an autonomous session (${auto.prefix}${auto.startIndex}..${auto.prefix}${auto.startIndex + auto.max - 1})`);
    }
  });

  const { host, port, token } = config.server;
  if (port !== undefined && port > 65535) add(['server', 'listen'], `port ${port} is out of range (0-65535; 0 picks a free port)`);
  if (host !== undefined && token === null && !LOOPBACK.test(host)) {
    add(['server', 'listen'], `listens on ${host}, which is not loopback, without server.token; set a token or listen on 127.0.0.1`);
  }
  return problems;
}
