import type { Logger } from '../log.js';
import type { TmuxClient } from '../tmux/client.js';
import { limitMenuOpen } from '../claude/screen-state.js';

/** A rate-limit menu Claude Code reopened over an old limit, as a screen poll found it. */
export interface ReopenedMenu {
  readonly session: string;
  readonly paneId: string;
  /** The session's launch when the screen was read: a relaunch since makes the reading stale. */
  readonly launch: number;
}

export interface CloseMenuDeps {
  readonly tmux: TmuxClient;
  readonly logger: Logger;
  readonly launchNumber: (session: string) => number;
  /** A prompt is being typed into the session now (its delivery closes the menu itself). */
  readonly beingTyped: (session: string) => boolean;
}

/**
 * Closes each menu with Escape (its "cancel"): it takes every key the pool or a task would
 * type. An Escape that reached a session working on a prompt would interrupt it, so each
 * is sent only while the menu is on screen now, not being typed into, in the launch it was
 * seen in.
 */
export async function closeReopenedMenus(deps: CloseMenuDeps, menus: readonly ReopenedMenu[]): Promise<void> {
  await Promise.all(
    menus.map(async ({ session, paneId, launch }) => {
      const current = () => !deps.beingTyped(session) && deps.launchNumber(session) === launch;
      if (!current()) return;
      const capture = await deps.tmux.capturePane(paneId, 30).catch(() => '');
      if (!limitMenuOpen(capture) || !current()) return;
      deps.logger.info({ session }, 'closing the rate-limit menu Claude Code reopened over an old limit');
      await deps.tmux.sendKeys(paneId, ['Escape']).catch(() => undefined);
    }),
  );
}
