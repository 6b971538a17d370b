import { join } from 'node:path';
import type { Account, Config } from './config/types.js';
import type { Logger } from './log.js';
import { createTmuxClient, type TmuxClient } from './tmux/client.js';
import { openStore } from './store/sqlite-store.js';
import { acquireInstanceLock } from './store/instance-lock.js';
import type { Store } from './store/store.js';
import { createNotifier, type Notifier } from './notify/notifier.js';
import { createHttpApp, startHttpServer } from './server/app.js';
import { createMetrics } from './server/metrics.js';
import { serveSocketRequest, type DaemonRequests } from './server/requests.js';
import { startControlSocket } from './monitor/control-socket.js';
import { watchTranscripts } from './monitor/transcript-watcher.js';
import { parseTranscriptLine } from './claude/transcript-record.js';
import { Monitor } from './monitor/monitor.js';
import type { LimitSource } from './monitor/limit-event.js';
import { standingLimits } from './monitor/standing-limits.js';
import { Pool } from './pool/pool.js';
import { allPoolSpecs } from './pool/pool-spec.js';
import { SessionStates } from './sessions/session-states.js';
import { Switcher } from './switcher/switcher.js';
import { ProactiveSwitch } from './switcher/proactive.js';
import { ScheduledJobs } from './switcher/scheduled-jobs.js';
import { isAvailable } from './switcher/choose-target.js';
import { PARTIAL_SWAP_FLAG } from './switcher/types.js';
import { Dispatcher } from './tasks/dispatcher.js';
import type { SwapStep, SwitchOutcome, SwitchRequest } from './switcher/types.js';
import { describeOutcome } from './switcher/describe-outcome.js';
import type { AccountLayout } from './accounts/account-layout.js';
import { createAccountLayout } from './accounts/layout.js';
import { ensureHookToken } from './accounts/hook-endpoint.js';
import { announceHookListener } from './accounts/prepare.js';
import { buildStatus, type StatusReport } from './status/status-report.js';
import { checkHealth, type Health } from './status/health.js';
import { daemonSocketPath, installedCommands } from './claude/self-command.js';
import { startDuties } from './duties.js';
import { cleanupStack } from './cleanup-stack.js';
import { startUsagePoll } from './usage/usage-poll.js';
import { describeError } from './errors.js';
import { failpoint } from './failpoint.js';
import { createFleet, type Fleet } from './fleet/fleet.js';
import type { TaskQueue } from './store/task-queue.js';

export interface DaemonOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Replaces the filesystem layout (fault tests); the real one comes from src/accounts. */
  readonly layout?: AccountLayout;
  readonly onStep?: (step: SwapStep, journalId: number) => void | Promise<void>;
  readonly onSwap?: (outcome: SwitchOutcome) => void;
  /** Limit signals to listen to (all by default). */
  readonly sources?: ReadonlySet<LimitSource>;
  /** Serve /healthz (default true). */
  readonly http?: boolean;
  /** How often the pool is reconciled and jobs are run (default: every 5 s). */
  readonly reconcileMs?: number;
  readonly transcriptRescanMs?: number;
}

export interface Daemon {
  readonly config: Config;
  readonly store: Store;
  readonly tmux: TmuxClient;
  readonly pool: Pool;
  readonly switcher: Switcher;
  readonly monitor: Monitor;
  readonly notifier: Notifier;
  /** The task queue: the store's own, or the fleet's with store.shared. */
  readonly tasks: TaskQueue;
  /** This host's part in a fleet (null without store.shared). */
  readonly fleet: Fleet | null;
  readonly httpUrl: string | null;
  status(): Promise<StatusReport>;
  health(): Promise<Health>;
  requestSwitch(req: SwitchRequest): Promise<SwitchOutcome>;
  /** One pass of every periodic duty (tests drive the daemon with it). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The composition root: builds every part from the config and wires them, repairs an
 * interrupted swap, acts on limits that stand, starts the pool, the signals and the timers.
 * `stop()` leaves the sessions running.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const lock = acquireInstanceLock(config.stateDir);
  const store = openStore(config.stateDir, { now });
  const cleanups = cleanupStack(logger);
  cleanups.push(() => { lock.release(); });
  cleanups.push(() => { store.close(); });
  try {
    // The pool's sessions are where the daemon's control-mode connection may attach.
    const poolNames = allPoolSpecs(config).map((spec) => spec.name);
    const tmux = createTmuxClient({ socket: config.tmux.socket, controlMode: { sessions: () => poolNames } });
    cleanups.push(() => { tmux.close(); });
    // store.shared: a limit any host sees reaches the monitor as one seen "from the fleet" (src/fleet).
    let monitorRef: Monitor | null = null;
    const hostNotifier = createNotifier({ notify: config.notify, logger });
    const fleet = await createFleet({
      config, store, logger, now, notifier: hostNotifier,
      applyLimit: (event) => { monitorRef?.handleLimit(event); },
      hostState: async () => ({ activeAccount: store.getActiveAccount(), sessions: sessions.list().length, runningTasks: (await queue.list({ state: 'running', mine: true })).length }),
    });
    if (fleet) cleanups.push(() => fleet.stop());
    const notifier = fleet?.notifier ?? hostNotifier;
    const queue = fleet?.shared.tasks ?? store.tasks;
    const metrics = createMetrics({ config, store, tasks: queue, notifier, now, ...(fleet ? { fleetDegraded: () => fleet.sync.health.degraded } : {}) });
    const layout = options.layout ?? createAccountLayout(config, logger);
    const activeAccount = (): Account | null => config.accounts.find((a) => a.name === store.getActiveAccount()) ?? null;
    const sessions = new SessionStates(store, now);
    let dispatchNow: () => void = () => undefined;

    // The dispatcher is built after the switcher; the pool asks it for demand only once running.
    let dispatcher: Dispatcher | null = null;
    const pool = new Pool({
      config, tmux, store, sessions, now, sleep, activeAccount,
      demand: () => dispatcher?.demand() ?? { autonomous: 0, hasTask: () => false },
      logger: logger.child({ part: 'pool' }),
      onSessionFailing: (name, reason) => {
        notifier.notify({ kind: 'session-failing', key: `failing:${name}:${reason}`, text: `Session ${name} dies right after its launch; retrying with backoff. Its last words:\n${reason}` });
      },
    });
    cleanups.push(() => { pool.close(); });
    const switcher = new Switcher({
      config, store, pool, layout, notifier, now,
      ...(fleet ? { spreadChoice: (choose) => fleet.spreadChoice(choose) } : {}),
      logger: logger.child({ part: 'switcher' }),
      onStep: async (step, id) => {
        metrics.swapStep(step);
        failpoint(step);
        await options.onStep?.(step, id);
      },
      onSwap: (outcome) => {
        metrics.swapEnded(outcome);
        options.onSwap?.(outcome);
      },
    });
    // Metrics: every switch request is counted with the trigger that asked for it.
    const requestSwitch = async (req: SwitchRequest): Promise<SwitchOutcome> => {
      const outcome = await switcher.request(req);
      metrics.switchRequested(req.trigger, outcome);
      return outcome;
    };
    /** A request nobody awaits (a limit, a due job): a fault is logged, never an unhandled rejection. */
    const requestInBackground = (req: SwitchRequest): Promise<SwitchOutcome | null> =>
      requestSwitch(req).catch((err: unknown) => {
        logger.error({ trigger: req.trigger, err: describeError(err) }, 'a switch request failed');
        return null;
      });
    const proactive = new ProactiveSwitch({
      busy: () => sessions.anyWorking(),
      graceMs: config.monitor.proactiveGraceMs,
      thresholdPercent: config.monitor.proactivePercent,
      now, sleep, logger,
      request: (account, reason) => requestInBackground({ trigger: 'proactive', account, reason }),
    });
    const monitor = new Monitor({
      config, store, sessions, tmux, now, activeAccount,
      logger: logger.child({ part: 'monitor' }),
      ...(options.sources ? { sources: options.sources } : {}),
      onLimit: (event) => {
        metrics.limitDetected(event, now());
        fleet?.sync.kick();
        void requestInBackground({ trigger: 'limit', account: event.account, reason: event.text ?? event.kind });
      },
      onNearLimit: (account, percent, _resetsAt, cause) => { proactive.trigger(account, percent, cause); },
      onPromptSubmitted: (session, prompt) => { pool.receipts.note(session, prompt); },
      beingTyped: (session) => pool.receipts.beingTyped(session),
      onAnswered: () => { dispatchNow(); },
      onControlEvent: (event) => { metrics.hookEvent(event); },
    });
    monitorRef = monitor;
    const jobs = new ScheduledJobs({ store, logger, now, request: requestInBackground, busy: () => sessions.anyWorking(), returnGraceMs: config.monitor.returnGraceMs });
    dispatcher = new Dispatcher({
      config, queue, sessions, pool, tmux, notifier, now,
      logger: logger.child({ part: 'tasks' }),
      // Work goes out only to an account that answers, and never while the pool is being moved.
      dispatchable: () => {
        const account = activeAccount();
        if (!account || switcher.busy || jobs.returnWaiting() || store.getFlag(PARTIAL_SWAP_FLAG).set) return null;
        return isAvailable(store.getLedgerEntry(account.name) ?? undefined, now()) ? account : null;
      },
    });
    const tasks = dispatcher;
    await fleet?.claimName(); // another daemon under this fleet.host stops the start before recovery touches anything
    logger.info({ recovery: await switcher.recover() }, 'state checked at start');
    // The fleet's limits before the pool is fed (a database down now only marks this host degraded).
    await fleet?.start();
    await tasks.adopt().catch((err: unknown) => { logger.warn({ err: describeError(err) }, 'tasks handed over before the restart could not be checked'); });
    // Followed (from their end) before the standing limits are read: a limit written between is seen.
    const watcher = watchTranscripts({
      projectsDir: join(config.sharedDir, 'projects'),
      parseLine: parseTranscriptLine,
      onSignal: (signal) => { monitor.handleTranscript(signal); },
      logger: logger.child({ part: 'transcripts' }),
      ...(options.transcriptRescanMs ? { rescanMs: options.transcriptRescanMs } : {}),
    });
    cleanups.push(() => { watcher.close(); });
    await watcher.ready;
    // A limit hit while the daemon was down (or before it could act) stands in the transcripts.
    for (const event of await standingLimits(config, sessions.list(), activeAccount(), now())) {
      try {
        monitor.handleLimit(event);
      } catch (err) {
        logger.warn({ session: event.session, err: describeError(err) }, 'a standing limit could not be recorded');
      }
    }
    const requests: DaemonRequests = {
      switch: ({ account, via }) => requestSwitch({ trigger: 'manual', target: account, reason: via === 'http' ? 'manual switch (HTTP)' : 'manual switch' }),
      ping: () => Promise.resolve({ pid: process.pid }),
    };
    const socket = await startControlSocket(daemonSocketPath(config), {
      logger: logger.child({ part: 'socket' }),
      onEvent: (message) => { monitor.handleControlEvent(message); },
      onRequest: (message) => serveSocketRequest(requests, message.command, message.args),
    });
    cleanups.push(() => socket.close());

    const health = () => checkHealth({ config, store, tmux, now: now(), fleetDegraded: fleet?.sync.health.state?.reason ?? null });
    const status = async () => ({ ...buildStatus(config, store, await layout.linkedAccount(), now()), fleet: fleet?.report() ?? null });
    let httpUrl: string | null = null;
    if (options.http !== false) {
      const app = createHttpApp({
        health,
        status,
        requestSwitch: async (account) => {
          const outcome = await requests.switch({ account, via: 'http' });
          return { ok: outcome.result === 'done' || outcome.result === 'skipped', message: describeOutcome(outcome) };
        },
        metrics: metrics.registry,
        token: config.server.token,
        listenHost: config.server.host,
        hooks: { token: ensureHookToken(config.stateDir), deliver: (event) => { monitor.handleControlEvent(event); } },
        tasks: queue, fleetQueue: fleet !== null, logger: logger.child({ part: 'http' }),
        dedicatedSessions: config.pool.dedicated.map((d) => d.name),
      });
      const server = await startHttpServer(app, { host: config.server.host, port: config.server.port });
      httpUrl = server.url;
      cleanups.push(() => server.close());
      // Hooks go to the bound port (port 0 included): every account's settings follow it.
      cleanups.push(await announceHookListener(config, server.url, installedCommands(config), (account, line) => { logger.info({ account }, line); }));
    }

    // A poll lists the pool's panes with their last output time, then reads only the screens
    // that changed: over the control connection, no process either way.
    const duties = await startDuties(
      {
        pollScreens: async () => { await monitor.pollScreens(await pool.poolPanes()); },
        reconcile: async () => {
          jobs.runDue();
          jobs.leaveExhaustedAccount();
          await pool.reconcile();
        },
        dispatch: () => (fleet?.sync.health.degraded ? Promise.resolve() : tasks.tick()),
      },
      { pollIntervalMs: config.monitor.pollIntervalMs, reconcileMs: options.reconcileMs ?? 5000, swapping: () => switcher.busy, logger },
    );
    dispatchNow = () => { duties.dispatchNow(); };
    cleanups.push(() => duties.stop());

    // monitor.usagePollMs (off by default): the usage of the accounts not in use, read-only
    // from the usage endpoint with each account's unexpired token (src/usage/usage-poll.ts).
    if (config.monitor.usagePollMs !== null) {
      const usagePoll = startUsagePoll({ config, store, now, everyMs: config.monitor.usagePollMs, activeAccount: () => store.getActiveAccount(), logger: logger.child({ part: 'usage' }) });
      cleanups.push(() => usagePoll.stop());
    }

    notifier.notify({ kind: 'daemon-started', text: `claude-failover started on ${store.getActiveAccount() ?? '(no account)'}; ${sessions.list().length} session(s) managed.` });
    logger.info({ active: store.getActiveAccount(), http: httpUrl, socket: daemonSocketPath(config) }, 'daemon running');

    let stopped = false;
    return {
      config, store, tmux, pool, switcher, monitor, notifier, tasks: queue, fleet, httpUrl, status, health,
      requestSwitch,
      tick: () => duties.tick(),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        // A proactive wait ends now; a swap in flight finishes (its journal would repair it anyway), within reason.
        let giveUp: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all([proactive.stop(), duties.stop(), switcher.idle()]), new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 30_000)))]);
        clearTimeout(giveUp);
        notifier.notify({ kind: 'daemon-stopped', text: 'claude-failover stopped; the sessions keep running.' });
        await notifier.flush(3000);
        await cleanups.run();
        logger.info('daemon stopped');
      },
    };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}
