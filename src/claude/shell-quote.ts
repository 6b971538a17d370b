/**
 * POSIX single-quote quoting: the only way a value from a config, a pane or a transcript
 * reaches a shell. `'` inside becomes `'\''`.
 */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_./:=@%+-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
