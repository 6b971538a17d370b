import { randomBytes } from 'node:crypto';

/**
 * A temp file beside `path` for a write-then-rename that no other write can share: two writes
 * of one file in the same millisecond (a swap preparing an account while the start-up points
 * its hooks at the listener) must not rename each other's file away.
 */
export function tempPathFor(path: string): string {
  return `${path}.cf-${String(process.pid)}-${randomBytes(6).toString('hex')}.tmp`;
}
