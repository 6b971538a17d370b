import { resolve } from 'node:path';

/** One syscall that creates a path, with the permissions the path is born with. */
export interface Creation {
  readonly pid: number;
  readonly call: string;
  readonly path: string;
  /** The mode asked for, after the process's umask at that moment: what the path is born with. */
  readonly mode: number;
}

const PATH_CALL = /^(\d+)\s+(?:<\.\.\. )?(\w+)\((.*)$/;

/** A C string as strace prints it ("a\nb", octal escapes) back to its bytes. */
function unquote(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, esc: string) => {
    if (esc.startsWith('x')) return String.fromCharCode(parseInt(esc.slice(1), 16));
    if (/^[0-7]+$/.test(esc)) return String.fromCharCode(parseInt(esc, 8));
    return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[esc] ?? esc;
  });
}

function firstString(args: string): { value: string; rest: string } | null {
  const match = /"((?:[^"\\]|\\.)*)"(\.\.\.)?(.*)$/.exec(args);
  return match ? { value: unquote(match[1] ?? ''), rest: match[3] ?? '' } : null;
}

/** The syscalls `creationsIn` reads: `strace -e trace=<these>`. */
export const TRACED_CALLS = 'umask,mkdir,mkdirat,open,openat,creat,bind,unlink,unlinkat,rename,renameat,renameat2';

/**
 * Reads `strace -f -e trace=<TRACED_CALLS>` output (`-s 4096`, one line per call, pids
 * first) and returns every path's birth with the mode it is born with (an O_CREAT open of a
 * path that exists creates nothing: only the first since the path last went away counts): mkdir's and O_CREAT's mode and a Unix socket's 0777, each less the umask at that
 * moment (the daemon's umask calls tracked in order: a umask is the whole process's, and the
 * daemon's threads show as pids of their own).
 */
export function creationsIn(trace: string, initialUmask: number): Creation[] {
  let umask = initialUmask;
  const out: Creation[] = [];
  const umaskOf = (_pid: number) => umask;
  const exists = new Set<string>();
  const birth = (creation: Creation) => {
    if (exists.has(creation.path)) return;
    exists.add(creation.path);
    out.push(creation);
  };
  for (const line of trace.split('\n')) {
    const match = PATH_CALL.exec(line);
    if (!match) continue;
    const pid = Number(match[1]);
    const call = match[2] ?? '';
    const args = match[3] ?? '';
    if (call === 'umask') {
      const asked = /^(0[0-7]*|\d+)\)/.exec(args);
      if (asked) umask = parseInt(asked[1] ?? '0', 8);
      continue;
    }
    if (/= -1 /.test(args)) continue; // failed: created nothing
    const str = firstString(args);
    if (!str) continue;
    if (/^(unlink|unlinkat|rename|renameat|renameat2)$/.test(call)) {
      exists.delete(resolve(str.value)); // gone (or moved away) from that name
      if (call.startsWith('rename')) {
        const to = firstString(str.rest);
        if (to) exists.add(resolve(to.value)); // born as the source was
      }
      continue;
    }
    if (call === 'mkdir' || call === 'mkdirat') {
      const mode = /,\s*(0[0-7]+)(?:\)|\s*<unfinished)/.exec(str.rest);
      birth({ pid, call, path: resolve(str.value), mode: parseInt(mode?.[1] ?? '0777', 8) & ~umaskOf(pid) });
    } else if ((call === 'open' || call === 'openat') && /O_CREAT/.test(str.rest)) {
      const mode = /,\s*(0[0-7]+)(?:\)|\s*<unfinished)/.exec(str.rest);
      birth({ pid, call, path: resolve(str.value), mode: parseInt(mode?.[1] ?? '0666', 8) & ~umaskOf(pid) });
    } else if (call === 'creat') {
      const mode = /,\s*(0[0-7]+)(?:\)|\s*<unfinished)/.exec(str.rest);
      birth({ pid, call, path: resolve(str.value), mode: parseInt(mode?.[1] ?? '0666', 8) & ~umaskOf(pid) });
    } else if (call === 'bind' && /AF_UNIX/.test(args)) {
      const sun = /sun_path="((?:[^"\\]|\\.)*)"/.exec(args);
      if (sun) birth({ pid, call, path: resolve(unquote(sun[1] ?? '')), mode: 0o777 & ~umaskOf(pid) });
    }
  }
  return out;
}
