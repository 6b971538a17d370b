import type { Account, Config } from '../config/types.js';
import { shellQuote } from '../claude/shell-quote.js';

/**
 * The line a person pastes to log an account in (then types /login). Quoted like every
 * other command we print: a home path may hold spaces or quotes (Invariant 10).
 */
export function loginCommand(config: Config, account: Account): string {
  return `CLAUDE_CONFIG_DIR=${shellQuote(account.home)} ${shellQuote(config.claude.command)}`;
}
