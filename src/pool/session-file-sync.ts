import type { Account, Config } from '../config/types.js';
import type { SessionRecord } from '../store/store.js';
import type { PaneInfo } from '../tmux/client.js';
import type { SessionStates } from '../sessions/session-states.js';
import { processAlive } from '../process-alive.js';
import type { RunningSessionFile, SessionFileReader } from './session-files.js';

/**
 * `<home>/sessions/<pid>.json` is the cheapest map from pane to conversation. Each session's
 * file is read from the home of the account it runs under, which is not the active one
 * while it waits to be moved (or after a swap was interrupted).
 */
export async function learnFromSessionFiles(deps: { readonly config: Config; readonly sessions: SessionStates; readonly files: SessionFileReader }, active: Account, panes: Map<string, PaneInfo>): Promise<Map<string, SessionRecord>> {
  const runsOn = new Map(deps.sessions.list().map((s) => [s.name, s.account]));
  const panesByHome = new Map<string, Map<string, PaneInfo>>();
  for (const pane of panes.values()) {
    const home = deps.config.accounts.find((a) => a.name === runsOn.get(pane.sessionName))?.home ?? active.home;
    const byPane = panesByHome.get(home) ?? new Map<string, PaneInfo>();
    byPane.set(pane.paneId, pane);
    panesByHome.set(home, byPane);
  }
  const found: { pane: PaneInfo; file: RunningSessionFile }[] = [];
  for (const [home, byPane] of panesByHome) {
    for (const file of await deps.files.read(home)) {
      const pane = file.paneId ? byPane.get(file.paneId) : undefined;
      // A process killed by a respawn may leave its file behind, naming the same pane.
      if (pane && (file.pid === pane.panePid || processAlive(file.pid))) found.push({ pane, file });
    }
  }
  // The registry is read after the files, with no await before the writes: a hook that
  // arrived meanwhile (a StopFailure marking the session limited) is not overwritten.
  const registry = new Map(deps.sessions.list().map((s) => [s.name, s]));
  for (const { pane, file } of found) {
    const updated = deps.sessions.observedRunning(pane.sessionName, { paneId: pane.paneId, sessionId: file.sessionId, cwd: file.cwd, status: file.status }, registry.get(pane.sessionName) ?? null);
    if (updated) registry.set(pane.sessionName, updated);
  }
  return registry;
}
