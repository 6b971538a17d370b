import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One reading of a daemon process's resources, as the long run samples them. */
export interface ProcessSample {
  /** Milliseconds since the run began. */
  readonly atMs: number;
  readonly rssKiB: number;
  readonly fds: number;
  /** Direct children of the daemon (tmux calls, its control-mode client, hook relays...). */
  readonly children: number;
  /**
   * Zombies among the daemon's descendants, by pid: the daemon's to reap (its tmux calls, its
   * control client) or its children's. A zombie whose parent is a Claude Code process (a hook
   * it ran) is that process's to reap: the fake Claude Code waits for its quota lock
   * synchronously, seconds when a killed session left the lock behind.
   */
  readonly zombies: readonly number[];
  /** Zombies among the tmux server's own children (the panes' processes): tmux's to reap. */
  readonly tmuxZombies: readonly number[];
  /** Each zombie's parent, `pid:command`, so a lingering one names its owner. */
  readonly zombieParents: Readonly<Record<number, string>>;
  /** `tmux -L <socket> list-clients`: control-mode clients included. */
  readonly tmuxClients: number;
}

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
}

/** `/proc/<pid>/stat`: the state and the parent (the command name may hold spaces and parens). */
function procStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return null; // gone meanwhile
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

/** Every descendant of `roots` (the roots excluded). */
function descendants(processes: readonly ProcStat[], roots: readonly number[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of processes) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcStat[] = [];
  const queue = [...roots];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of byParent.get(pid) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${String(pid)}/fd`).length;
}

/** The pid of the tmux server on a private socket (null: none running). */
export function tmuxServerPid(socket: string): number | null {
  try {
    const out = execFileSync('tmux', ['-L', socket, 'display-message', '-p', '#{pid}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const pid = Number(out.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function tmuxClientCount(socket: string): number {
  try {
    const out = execFileSync('tmux', ['-L', socket, 'list-clients', '-F', '#{client_pid}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Reads the daemon's RSS, descriptors, children, the zombies in its and tmux's trees, and tmux's clients. */
export function sampleProcess(daemonPid: number, socket: string, startedAt: number): ProcessSample {
  const processes = allProcesses();
  const server = tmuxServerPid(socket);
  const ours = descendants(processes, [daemonPid]);
  const panes = server === null ? [] : processes.filter((p) => p.ppid === server);
  const tree = [...ours, ...panes];
  return {
    atMs: Date.now() - startedAt,
    rssKiB: rssKiB(daemonPid),
    fds: openFds(daemonPid),
    children: processes.filter((p) => p.ppid === daemonPid).length,
    zombies: ours.filter((p) => p.state === 'Z').map((p) => p.pid),
    tmuxZombies: panes.filter((p) => p.state === 'Z').map((p) => p.pid),
    zombieParents: Object.fromEntries(tree.filter((p) => p.state === 'Z').map((p) => [p.pid, `${String(p.ppid)}:${commandOf(p.ppid)}`])),
    tmuxClients: tmuxClientCount(socket),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Zombies seen in `inARow` samples in a row (of the daemon's tree, or tmux's children). A
 * zombie caught in the instant between a child's exit and its parent's wait is not a leak.
 */
export function lingeringZombies(samples: readonly ProcessSample[], of: 'daemon' | 'tmux' = 'daemon', inARow = 2): number[] {
  const pick = (s: ProcessSample | undefined) => new Set(of === 'daemon' ? (s?.zombies ?? []) : (s?.tmuxZombies ?? []));
  const out = new Set<number>();
  for (let i = inARow - 1; i < samples.length; i++) {
    for (const pid of pick(samples[i])) {
      let run = 1;
      while (run < inARow && pick(samples[i - run]).has(pid)) run++;
      if (run === inARow) out.add(pid);
    }
  }
  return [...out];
}
