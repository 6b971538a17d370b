import { existsSync } from 'node:fs';
import type { Account } from '../config/types.js';
import type { Logger } from '../log.js';
import type { TmuxClient } from '../tmux/client.js';
import type { SessionStates } from '../sessions/session-states.js';
import { continuedSince } from '../claude/conversation-tail.js';
import type { PoolSessionSpec } from './pool-spec.js';
import type { StoppedAs, SwapRelaunch } from './swap-relaunch.js';
import type { RelaunchOutcome, SessionSnapshot } from './swap-types.js';

export interface SwapPlanDeps {
  readonly specs: ReadonlyMap<string, PoolSessionSpec>;
  readonly sessions: SessionStates;
  readonly swapping: SwapRelaunch;
  readonly tmux: TmuxClient;
  readonly logger: Logger;
  /** The transcript a session writes now (its running process's id, else the registry's). */
  readonly transcriptOf: (name: string, account: Account) => Promise<string | null>;
}

/** The snapshot brought up to date with the registry: a /clear or a hook since moved its id. */
function current(deps: SwapPlanDeps, s: SessionSnapshot): SessionSnapshot {
  const record = deps.sessions.get(s.name);
  return { ...s, sessionId: record?.sessionId ?? s.sessionId, cwd: record?.cwd ?? s.cwd };
}

const notAPoolSession = (name: string): RelaunchOutcome => ({ name, sessionId: null, resumed: false, prompted: false, continuation: 'not-needed', ok: false, error: 'not a pool session' });

/**
 * Which conversations get the continuation, decided once the pool has stopped (from each
 * transcript and how it was found at the stop). The swap journals this before it relaunches
 * anything: a relaunch rewrites the registry ("starting"), so after a crash the stop's
 * findings are gone, and the journal is what still knows them.
 */
export async function planContinuations(deps: SwapPlanDeps, snapshot: readonly SessionSnapshot[], account: Account, prompt: string | null, atStop: ReadonlyMap<string, StoppedAs>): Promise<Set<string>> {
  const out = new Set<string>();
  if (prompt === null) return out;
  await Promise.all(
    snapshot.map(async (s) => {
      if (!deps.specs.has(s.name)) return;
      // Recovery from a journal without a plan knows no stop: the snapshot's "working" stands in for it.
      const found = atStop.get(s.name) ?? (s.working ? 'working' : 'idle');
      if (await deps.swapping.needsContinuation(current(deps, s), account, found)) out.add(s.name);
    }),
  );
  return out;
}

/** Starts every session again on `account`; the planned ones get `prompt` once ready. */
export function relaunchPlanned(deps: SwapPlanDeps, snapshot: readonly SessionSnapshot[], account: Account, prompt: string | null, toContinue: ReadonlySet<string>): Promise<RelaunchOutcome[]> {
  return Promise.all(
    snapshot.map((s) => {
      const spec = deps.specs.get(s.name);
      if (!spec) return Promise.resolve(notAPoolSession(s.name));
      return deps.swapping.relaunchOne(spec, current(deps, s), account, prompt !== null && toContinue.has(s.name) ? prompt : null);
    }),
  );
}

/**
 * Finishes a relaunch a crash interrupted, from the plan the journal kept. A planned
 * conversation whose transcript already holds the continuation (typed since the relaunch
 * began, after whatever cut it off) got it before the crash: it never gets a second one, and when it already runs on
 * `account` it is left to work. Every other planned one is started again and continued; an
 * unplanned one already running on `account` since then is left as it is.
 */
export function finishPlanned(deps: SwapPlanDeps, snapshot: readonly SessionSnapshot[], account: Account, prompt: string | null, toContinue: ReadonlySet<string>, since: Date): Promise<RelaunchOutcome[]> {
  return Promise.all(
    snapshot.map(async (s) => {
      const spec = deps.specs.get(s.name);
      if (!spec) return notAPoolSession(s.name);
      const session = current(deps, s);
      const planned = prompt !== null && toContinue.has(s.name);
      const transcript = await deps.transcriptOf(s.name, account);
      const continued = planned && transcript !== null && (await continuedSince(transcript, prompt, since));
      const running = await runningOnSince(deps, s.name, account, since);
      deps.logger.info({ session: s.name, planned, continued, running }, 'finishing an interrupted relaunch');
      if (running && (!planned || continued)) {
        const resumed = transcript !== null && existsSync(transcript);
        return { name: s.name, sessionId: session.sessionId, resumed, prompted: continued, continuation: continued ? 'delivered' : 'not-needed', ok: true, error: null } satisfies RelaunchOutcome;
      }
      return deps.swapping.relaunchOne(spec, session, account, planned && !continued ? prompt : null);
    }),
  );
}

/** Relaunched on `account` at or after `since`, and its process still runs. */
async function runningOnSince(deps: SwapPlanDeps, name: string, account: Account, since: Date): Promise<boolean> {
  const record = deps.sessions.get(name);
  if (record?.account !== account.name || !record.paneId || !record.launchedAt || record.launchedAt.getTime() < since.getTime()) return false;
  try {
    return !(await deps.tmux.paneInfo(record.paneId)).dead;
  } catch {
    return false;
  }
}
