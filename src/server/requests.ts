import type { SwitchOutcome } from '../switcher/types.js';

/** What a client may ask the daemon: one table, served by the control socket and by HTTP. */
export interface DaemonRequests {
  /** A manual switch: to `account`, or to the best account available when null. */
  switch(args: { readonly account: string | null; readonly via: 'socket' | 'http' }): Promise<SwitchOutcome>;
  /** Liveness, for `status` and scripts: the daemon's pid. */
  ping(): Promise<{ readonly pid: number }>;
}

/** A control-socket request (`{command, args}`) served from the table; an unknown command is an error. */
export function serveSocketRequest(requests: DaemonRequests, command: string, args: unknown): Promise<unknown> {
  switch (command) {
    case 'switch': {
      const account = typeof args === 'object' && args !== null && 'account' in args && typeof args.account === 'string' ? args.account : null;
      return requests.switch({ account, via: 'socket' });
    }
    case 'ping':
      return requests.ping();
    default:
      return Promise.reject(new Error(`unknown command: ${command}`));
  }
}
