/**
 * What may be said of the shared database's URL, without loading the driver: every command
 * and the single-host daemon use these, and only a host with store.shared loads \`pg\`.
 */
/** The parts of a database URL that must never reach a log, a status or an error message. */
export function urlSecrets(url: string): string[] {
  const secrets = [url];
  try {
    const parsed = new URL(url);
    if (parsed.password) secrets.push(parsed.password, decodeURIComponent(parsed.password));
  } catch {
    // not a URL the WHATWG parser takes: the whole text is still hidden
  }
  return secrets;
}

/** Where the database is, as it may be shown: host, port and database, never the user's password. */
export function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return '(the configured database)';
  }
}
