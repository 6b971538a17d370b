/** Fields are joined with a character that cannot occur in names or commands. */
export const FIELD_SEPARATOR = '\u001f';

export interface PaneInfo {
  readonly sessionName: string;
  readonly paneId: string;
  readonly panePid: number;
  readonly currentCommand: string;
  readonly dead: boolean;
  readonly deadStatus: number | null;
  readonly width: number;
  readonly height: number;
  readonly cwd: string;
  /** When its window last had output (epoch seconds; one pane per pool window): unchanged means the screen is too. */
  readonly activity: number | null;
}

export const PANE_FORMAT = ['#{session_name}', '#{pane_id}', '#{pane_pid}', '#{pane_current_command}', '#{pane_dead}', '#{pane_dead_status}', '#{pane_width}', '#{pane_height}', '#{pane_current_path}', '#{window_activity}'].join(FIELD_SEPARATOR);

export function parsePaneLine(line: string): PaneInfo | null {
  const f = line.split(FIELD_SEPARATOR);
  if (f.length < 9) return null;
  const [sessionName = '', paneId = '', pid = '', currentCommand = '', dead = '', deadStatus = '', width = '', height = '', cwd = '', activity = ''] = f;
  return {
    sessionName,
    paneId,
    panePid: Number(pid) || 0,
    currentCommand,
    dead: dead === '1',
    deadStatus: deadStatus === '' ? null : Number(deadStatus),
    width: Number(width) || 0,
    height: Number(height) || 0,
    cwd,
    activity: activity === '' || !Number.isFinite(Number(activity)) ? null : Number(activity),
  };
}

export interface SessionInfo {
  readonly name: string;
  readonly createdAt: Date;
  readonly attached: boolean;
}

export const SESSION_FORMAT = ['#{session_name}', '#{session_created}', '#{session_attached}'].join(FIELD_SEPARATOR);

export function parseSessionLine(line: string): SessionInfo | null {
  const [name, created, attached] = line.split(FIELD_SEPARATOR);
  if (!name || created === undefined) return null;
  return { name, createdAt: new Date(Number(created) * 1000), attached: Number(attached) > 0 };
}

/** Drops the blank lines tmux pads a capture with at the bottom. */
export function trimCapture(text: string): string {
  return text.replace(/\s+$/, '');
}

/**
 * A value for an argument tmux expands as a format (`new-session -c`, `respawn-pane -c`):
 * every `#` doubled, so `#(...)` (a shell command), `#{...}` and `#S` stay text. Nothing
 * else is special there: `%`, `~`, quotes and `$` reach tmux as they are.
 */
export function formatLiteral(value: string): string {
  return value.replaceAll('#', '##');
}
