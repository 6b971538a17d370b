// CSI, OSC and two-character escapes: what a pane capture with -e, or a log, may carry.
// eslint-disable-next-line no-control-regex -- escape sequences are exactly what this removes
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
