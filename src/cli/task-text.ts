// How `task list` and `task show` put tasks into words.
import type { Task } from '../store/task-queue.js';

function duration(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}

const when = (d: Date | null): string => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

/** A prompt on one line of the table: its first line, cut. */
function promptLine(prompt: string, width = 50): string {
  const line = prompt.trim().split('\n')[0]?.replace(/\s+/g, ' ') ?? '';
  const more = line.length > width || prompt.trim().includes('\n');
  return line.length > width ? `${line.slice(0, width - 1)}…` : more ? `${line} …` : line;
}

function table(tasks: readonly Task[]): string {
  const rows = [['ID', 'STATE', 'PRI', 'SESSION', 'TRIES', 'CREATED', 'PROMPT'], ...tasks.map((t) => [String(t.id), t.state, String(t.priority), t.session ?? t.target ?? '-', `${t.attempts}/${t.maxAttempts}`, when(t.createdAt), promptLine(t.prompt)])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** A fleet's queued task some hosts found they cannot run (its cwd or its session is not theirs), in words; else null. */
function cannotRunOn(t: Task): string | null {
  const hosts = t.state === 'queued' ? (t.cannotRunOn ?? []) : [];
  return hosts.length === 0 ? null : `cannot run on ${hosts.join(', ')} (its cwd or its session is not theirs)`;
}

/** The table, then a line for each queued task some hosts cannot run. */
export function listing(tasks: readonly Task[]): string {
  const notes = tasks.flatMap((t) => {
    const cannot = cannotRunOn(t);
    return cannot ? [`task ${String(t.id)}: ${cannot}`] : [];
  });
  return [table(tasks), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

export function describeTask(t: Task): string {
  const indent = (text: string) => text.split('\n').join('\n             ');
  const lines = [
    `task ${t.id}: ${t.state}`,
    `  prompt     ${indent(t.prompt)}`,
    `  cwd        ${t.cwd ?? "(the session's own)"}`,
    `  target     ${t.target ?? '(any autonomous session)'}`,
    `  mode       ${t.mode === 'fresh' ? 'fresh (a new conversation)' : "continue (the session's conversation)"}`,
    `  priority   ${t.priority}`,
    `  timeout    ${t.timeoutMs === null ? 'none' : duration(t.timeoutMs)}`,
    `  attempts   ${t.attempts} of ${t.maxAttempts}`,
    `  session    ${t.session ?? '-'}`,
    `  conversation ${t.sessionId ?? '-'}`,
    `  created    ${when(t.createdAt)}`,
    `  started    ${when(t.startedAt)}`,
    `  finished   ${when(t.finishedAt)}`,
  ];
  const cannot = cannotRunOn(t);
  if (cannot) lines.push(`  waiting    ${cannot}`);
  if (t.result !== null) lines.push(`  result     ${indent(t.result)}`);
  if (t.error !== null) lines.push(`  error      ${indent(t.error)}`);
  return lines.join('\n');
}
