import { lstatSync, readlinkSync } from 'node:fs';

/**
 * Why a directory from the config cannot be used because it is a symbolic link (one planted
 * there would send our writes elsewhere), or null: a real directory, not there yet, or
 * unreadable (the steps that use it say why). `how` completes "claude-failover … a real
 * directory"; `field` is the config field to set instead.
 */
export function plantedLinkProblem(path: string, what: string, how: string, field: string): string | null {
  try {
    if (!lstatSync(path).isSymbolicLink()) return null;
    return `the ${what} ${path} is a symbolic link (to ${readlinkSync(path)}); claude-failover ${how} a real directory: remove the link, or set ${field} to the directory itself`;
  } catch {
    return null;
  }
}
