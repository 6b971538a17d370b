import type { StatusReport, StatusWithTasks } from './status-report.js';

/** ANSI styles, or none: the caller decides (NO_COLOR, --no-color, not a terminal). */
export interface Paint {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly green: (text: string) => string;
  readonly cyan: (text: string) => string;
}

const style = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
export const COLOURS: Paint = { bold: style(1, 22), dim: style(2, 22), red: style(31, 39), yellow: style(33, 39), green: style(32, 39), cyan: style(36, 39) };
const plain = (text: string) => text;
export const NO_COLOURS: Paint = { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain };

/**
 * Whether to colour: never with NO_COLOR set (any non-empty value) or `--no-color`; with
 * FORCE_COLOR set (not "0") even into a pipe; else only into a terminal.
 */
export function wantsColour(env: NodeJS.ProcessEnv, flag: boolean, isTty: boolean): boolean {
  if (!flag || (env.NO_COLOR ?? '') !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTty;
}

/** `in 2h 05m`, `in 3d 4h`, `in 40s`; `due` once passed. */
export function countdown(to: string | null, from: string): string {
  if (to === null) return '';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return 'due';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `in ${s}s`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `in ${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `in ${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `in ${Math.floor(h / 24)}d ${h % 24}h`;
}

/** How long ago, for the swap history: `40s ago`, `5m ago`, `3h ago`, `2d ago`. */
function ago(at: string, from: string): string {
  const s = Math.max(0, Math.round((Date.parse(from) - Date.parse(at)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export const BAR_WIDTH = 20;

/** `█████░░░░░░░░░░░░░░░  25%`, coloured by how close to the limit; blank when not known. */
export function usageBar(percent: number | null, paint: Paint, exhausted: boolean, nearLimit: boolean): string {
  if (percent === null && !exhausted) return paint.dim('·'.repeat(BAR_WIDTH) + '    ?');
  const shown = exhausted ? Math.max(percent ?? 100, 100) : Math.max(0, percent ?? 0);
  const filled = Math.min(BAR_WIDTH, Math.round((Math.min(shown, 100) / 100) * BAR_WIDTH));
  const colour = exhausted ? paint.red : nearLimit ? paint.yellow : paint.green;
  return `${colour('█'.repeat(filled))}${paint.dim('░'.repeat(BAR_WIDTH - filled))} ${`${Math.round(shown)}%`.padStart(4)}`;
}

/** How a window is named to a person. */
export const WINDOW_LABELS = { five_hour: '5-hour', seven_day: 'weekly' } as const;

/** Each window's latest reading not yet reset, one labelled bar a line; nothing when neither is known. */
function windowLines(a: StatusReport['accounts'][number], paint: Paint, at: string, indent: string): string[] {
  // Reports from an older daemon have no `windows`.
  const windows = (a as Partial<typeof a>).windows;
  if (!windows || (windows.five_hour === null && windows.seven_day === null)) return [];
  return (['five_hour', 'seven_day'] as const).map((w) => {
    const reading = windows[w];
    const label = WINDOW_LABELS[w].padEnd(7);
    if (!reading) return `${indent}${paint.dim(label)}${usageBar(null, paint, false, false)}`;
    const near = reading.percent >= 80 && reading.percent < 100;
    const resets = reading.resetsAt ? `  resets ${countdown(reading.resetsAt, at)}` : '';
    return `${indent}${paint.dim(label)}${usageBar(reading.percent, paint, reading.percent >= 100, near)}${paint.dim(resets)}`;
  });
}

/** `14:32`, in the local time zone. */
function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * The forecast in words: when the limit is reached at this pace, or that the window resets
 * first; null when there is none (too few readings, usage not rising) or no active account.
 */
export function forecastSentence(forecast: StatusReport['forecast'] | undefined, at: string): string | null {
  if (!forecast) return null;
  const label = forecast.window in WINDOW_LABELS ? WINDOW_LABELS[forecast.window as keyof typeof WINDOW_LABELS] : forecast.window;
  const pace = forecast.percentPerHour !== null ? ` (${String(forecast.percentPerHour)}%/h, now ${String(forecast.percent ?? '?')}%)` : '';
  switch (forecast.state) {
    case 'limit':
      return forecast.limitAt ? `at this pace the ${label} limit is reached at ${clockTime(forecast.limitAt)} (${countdown(forecast.limitAt, at)})${pace}` : null;
    case 'reset-first':
      return `at this pace the ${label} window resets${forecast.resetsAt ? ` at ${clockTime(forecast.resetsAt)} (${countdown(forecast.resetsAt, at)})` : ''} before its limit is reached${pace}`;
    case 'none':
      return null;
  }
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The status for a person: tables, usage bars, countdowns; colour only through `paint`. */
export function renderStatus(report: StatusReport | StatusWithTasks, paint: Paint): string {
  const at = report.generatedAt;
  const out: string[] = [];
  const heading = (text: string) => out.push('', paint.bold(text));
  const clock = new Date(at).toLocaleTimeString();
  out.push(`${paint.bold('claude-failover')}  active: ${report.activeAccount ? paint.cyan(paint.bold(report.activeAccount)) : paint.red('(none)')}  link → ${report.link ?? paint.red('(missing)')}  ${paint.dim(clock)}`);
  if (report.partialSwap.set) {
    out.push(paint.red(paint.bold(`!! PARTIAL SWAP since ${report.partialSwap.since ?? '?'}: ${report.partialSwap.reason ?? ''}`)));
    out.push(paint.red('   repair the layout, then run: claude-failover resolve'));
  }

  heading('ACCOUNTS');
  const nameWidth = Math.max(4, ...report.accounts.map((a) => a.name.length));
  out.push(paint.dim(`    ${'NAME'.padEnd(nameWidth)}  ${'STATE'.padEnd(22)}  ${'USAGE'.padEnd(BAR_WIDTH + 5)}  RESETS`));
  for (const a of report.accounts) {
    const marker = a.name === report.activeAccount ? paint.cyan('*') : ' ';
    const name = a.name === report.activeAccount ? paint.bold(a.name.padEnd(nameWidth)) : a.name.padEnd(nameWidth);
    const stateText = a.exhausted ? `exhausted (${a.kind ?? 'unknown'})` : a.nearLimit ? 'near limit' : 'available';
    const state = (a.exhausted ? paint.red : a.nearLimit ? paint.yellow : paint.green)(stateText.padEnd(22));
    const resets = a.exhausted
      ? `${countdown(a.resetsAt, at) || 'not known'}${a.resetGuessed ? ' (guessed)' : ''}`
      : a.usageResetsAt
        ? `window ${countdown(a.usageResetsAt, at)}`
        : '';
    out.push(`  ${marker} ${name}  ${state}  ${usageBar(a.usagePercent, paint, a.exhausted, a.nearLimit)}  ${resets}${a.preferred ? paint.dim('  [preferred]') : ''}`);
    out.push(...windowLines(a, paint, at, ' '.repeat(nameWidth + 6)));
  }
  const forecast = forecastSentence(report.forecast, at);
  if (forecast) out.push('', `  ${paint.bold('forecast')} ${report.forecast?.account ?? ''}: ${report.forecast?.state === 'limit' ? paint.yellow(forecast) : forecast}`);

  const withTasks = 'tasks' in report ? report : null;
  heading('SESSIONS');
  if (report.sessions.length === 0) out.push(paint.dim('  (none)'));
  else {
    const w = Math.max(4, ...report.sessions.map((s) => s.name.length));
    out.push(paint.dim(`  ${'NAME'.padEnd(w)}  ${'STATE'.padEnd(8)}  ${'ACCOUNT'.padEnd(10)}  ${'TASK'.padEnd(32)}  CONVERSATION`));
    for (const s of report.sessions) {
      const stateColour = s.state === 'working' ? paint.green : s.state === 'limited' || s.state === 'dead' ? paint.red : s.state === 'starting' ? paint.yellow : plain;
      const task = withTasks?.sessions.find((x) => x.name === s.name)?.task ?? null;
      const taskText = task ? `#${task.id} ${oneLine(task.prompt, 26)}` : '-';
      out.push(`  ${s.name.padEnd(w)}  ${stateColour(s.state.padEnd(8))}  ${(s.account ?? '-').padEnd(10)}  ${taskText.padEnd(32)}  ${paint.dim(s.sessionId ?? '-')}${s.restarts > 0 ? paint.yellow(`  ${s.restarts} failed launch(es)`) : ''}`);
      if (s.lastError) out.push(paint.red(`      last error: ${s.lastError.split('\n').join('\n      ')}`));
    }
  }

  if (withTasks) {
    heading('TASKS');
    const c = withTasks.tasks.counts;
    out.push(`  queued ${paint.bold(String(c.queued))} · running ${paint.bold(String(c.running))} · done ${c.done} · failed ${c.failed > 0 ? paint.red(String(c.failed)) : '0'} · cancelled ${c.cancelled}`);
  }

  if (report.fleet) {
    const f = report.fleet;
    heading(`FLEET  ${paint.dim(f.shared)}`);
    if (f.degraded) out.push(paint.red(`  degraded since ${f.degraded.since}: ${f.degraded.reason}; failing over on this host's own ledger`));
    for (const h of f.hosts) {
      out.push(`  ${(h.name === f.host ? paint.bold(h.name) : h.name).padEnd(16)} ${paint.dim(ago(h.lastSeen, at).padStart(8))}  ${(h.activeAccount ?? '-').padEnd(12)} ${String(h.sessions)} session(s), ${String(h.runningTasks)} running task(s)${h.silent ? paint.red('  silent') : ''}`);
    }
  }

  heading('RECENT SWAPS');
  if (report.swaps.length === 0) out.push(paint.dim('  (none)'));
  for (const s of report.swaps.slice(0, 10)) {
    const result = (s.result === 'done' ? paint.green : s.result === 'partial' || s.result === 'cancelled' ? paint.red : paint.yellow)(s.result);
    out.push(`  ${paint.dim(ago(s.at, at).padStart(8))}  ${s.from ?? '-'} → ${s.to ?? '-'}  ${result} (${s.trigger})${s.reason ? paint.dim(`: ${oneLine(s.reason, 80)}`) : ''}`);
  }
  if (report.scheduled.length > 0) {
    heading('SCHEDULED');
    for (const j of report.scheduled) out.push(`  ${j.kind} ${countdown(j.at, at)} ${paint.dim(`(${j.at})`)}`);
  }
  return out.join('\n');
}
