import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The statusline without Node: a bash script that reads Claude Code's statusline JSON,
 * POSTs it to the daemon's loopback listener (`/statusline`, the hook token read from the
 * state dir, through bash's own /dev/tcp: no process is started), and prints our short
 * line, or runs the user's own statusline (`--chain CMD`) on the same JSON. It never fails:
 * whatever happens, it prints and exits 0. Used when the daemon's listener is known; the
 * Node relay (over the control socket) otherwise.
 *
 * Arguments: <base URL, http://127.0.0.1:PORT> [--chain CMD].
 */
export const STATUSLINE_SCRIPT = [
  '# claude-failover statusline (written by claude-failover init; rewritten as needed)',
  'LC_ALL=C',
  'IFS= read -r -d \'\' input',
  'base=$1',
  'chain=',
  '[[ $2 == --chain ]] && chain=$3',
  'token=',
  'IFS= read -r token < "${BASH_SOURCE[0]%/*}/hook-token" 2>/dev/null',
  'hostport=${base#http://}',
  'port=${hostport##*:}',
  'host=${hostport%:*}',
  'host=${host#\\[}',
  'host=${host%\\]}',
  'pane=${TMUX_PANE//[^%0-9]/}',
  'if [[ -n $token && $port =~ ^[0-9]+$ ]]; then',
  '  {',
  '    printf \'POST /statusline HTTP/1.1\\r\\nHost: %s\\r\\nAuthorization: Bearer %s\\r\\nX-Claude-Failover-Pane: %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s\' "$hostport" "$token" "$pane" "${#input}" "$input" >&3',
  '    IFS= read -r -t 1 answer <&3',
  '  } 3<>"/dev/tcp/$host/$port"',
  'fi 2>/dev/null',
  'if [[ -n $chain ]]; then',
  '  printf \'%s\' "$input" | sh -c "$chain" 2>/dev/null',
  'elif [[ $input =~ \\"five_hour\\"[^}]*\\"used_percentage\\"[[:space:]]*:[[:space:]]*([0-9]+)(\\.[0-9]+)? ]]; then',
  '  printf \'\\xe2\\x87\\x84 claude-failover \\xc2\\xb7 5h %s%%\\n\' "${BASH_REMATCH[1]}"',
  'else',
  '  printf \'\\xe2\\x87\\x84 claude-failover\\n\'',
  'fi',
  'exit 0',
].join('\n') + '\n';

export const STATUSLINE_SCRIPT_NAME = 'statusline.sh';

/** bash on PATH, or null (the Node relay is used then). */
export function findBash(path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'bash');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** The script as it should be in the state dir; true when the file already holds it. */
export function scriptIsCurrent(path: string): boolean {
  try {
    return readFileSync(path, 'utf8') === STATUSLINE_SCRIPT;
  } catch {
    return false;
  }
}
