/**
 * A crash at a chosen journal step, for the crash-recovery tests (like a database's
 * failpoints): `CLAUDE_FAILOVER_FAILPOINT=<step>` kills the daemon with SIGKILL right
 * after that step is written.
 */
export function failpoint(step: string): void {
  if (process.env.CLAUDE_FAILOVER_FAILPOINT === step) process.kill(process.pid, 'SIGKILL');
}
