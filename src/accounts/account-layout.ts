import type { Account } from '../config/types.js';

/** The filesystem half of a swap (layout.ts implements it; a seam, so faults can be produced in tests). */
export interface AccountLayout {
  /** The configured account the link points to now, or null. */
  linkedAccount(): Promise<string | null>;
  flipLink(account: Account): Promise<void>;
  /** Shared links ensured, the account prepared, its home proven writable, all verified; throws on a fault. */
  prepareTarget(account: Account): Promise<void>;
}
