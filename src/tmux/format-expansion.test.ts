import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTmuxClient } from './client.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { waitFor } from '../../test/helpers/wait-for.js';

/**
 * tmux 3.3a expands formats (`#{...}`, and `#(...)`, which runs a shell command) in
 * `new-session -s`, `new-session -c` and `respawn-pane -c`; not in targets, `-e` values, the
 * pane's command, `send-keys -l` text or a `set-option` value. A working directory can come
 * from a hook's `cwd`, i.e. from wherever a session `cd`'d into, so none of it may reach
 * tmux's format expander. A format job runs in the calling client's cwd with the server's
 * global environment: the probes touch `$CF_PWNED_*`, set in this server's environment, so a
 * probe that fires writes into this test's own temp dir and nowhere else.
 */
describe('tmux arguments are never format-expanded (real tmux, private socket)', () => {
  const socket = privateSocketName('cf-fmt');
  const tmux = createTmuxClient({ socket });
  let dir: string;
  const marker = (name: string) => join(dir, `PWNED-${name}`);
  /** A directory whose name is a format job touching the marker `name`, a variable and other format syntax. */
  const hostileDir = (name: string) => {
    const path = join(dir, `proj #(touch "$CF_PWNED_${name}") #{pane_id} ##x #S %H ~`);
    mkdirSync(path);
    return path;
  };
  const paneCwd = (panePid: number) => readlinkSync(`/proc/${String(panePid)}/cwd`);
  /** The pane's shell printed its cwd: it has started, after tmux expanded (or not) its arguments. */
  const started = (paneId: string) => waitFor(async () => (await tmux.capturePane(paneId, 10)).includes('STARTED') || undefined, { what: 'the pane command started' });

  beforeAll(async () => {
    dir = await makeTempDir('cf-fmt');
    const env: Record<string, string> = { ...process.env } as Record<string, string>;
    for (const name of ['c', 'respawn', 's', 'e']) env[`CF_PWNED_${name}`] = marker(name);
    // The server's global environment is what a format job sees.
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'keeper', 'exec cat'], { env, stdio: 'ignore', timeout: 5000 });
  });
  afterAll(async () => {
    await killPrivateServer(socket);
    await removeTempDir(dir);
  });

  it('new-session -c: starts in the directory named literally, running nothing from its name', async () => {
    const cwd = hostileDir('c');
    const { paneId } = await tmux.newSession({ name: 'cwd', cwd, env: { CF_VALUE: '#(touch "$CF_PWNED_e") #{pane_id}' }, command: 'printf "%s\\n" "$CF_VALUE" STARTED; exec cat' });
    await started(paneId);
    const pane = await tmux.paneInfo(paneId);
    expect(paneCwd(pane.panePid)).toBe(cwd);
    expect(pane.cwd).toBe(cwd);
    // -e is not expanded by tmux: the value arrives as given.
    expect(await tmux.capturePane(paneId, 10)).toContain('#(touch "$CF_PWNED_e") #{pane_id}');
    expect(existsSync(marker('c'))).toBe(false);
    expect(existsSync(marker('e'))).toBe(false);
  });

  it('respawn-pane -c: the relaunch starts in the directory named literally, running nothing from its name', async () => {
    const { paneId } = await tmux.newSession({ name: 'respawned', cwd: dir, command: 'exec cat' });
    const cwd = hostileDir('respawn');
    await tmux.respawnPane({ target: paneId, cwd, command: 'echo STARTED; exec cat', kill: true });
    await started(paneId);
    expect(paneCwd((await tmux.paneInfo(paneId)).panePid)).toBe(cwd);
    expect(existsSync(marker('respawn'))).toBe(false);
  });

  it('new-session -s: a name tmux would expand is refused, and nothing runs', async () => {
    const name = 'n#(touch "$CF_PWNED_s")#{pane_id}';
    await expect(tmux.newSession({ name, cwd: dir, command: 'exec cat' })).rejects.toMatchObject({ code: 'TMUX_BAD_ARGUMENT' });
    // A session made after it (one more round trip through the server) and nothing else.
    const { paneId } = await tmux.newSession({ name: 'after', cwd: dir, command: 'echo STARTED; exec cat' });
    await started(paneId);
    expect((await tmux.listSessions()).map((s) => s.name).sort()).toEqual(['after', 'cwd', 'keeper', 'respawned']);
    expect(existsSync(marker('s'))).toBe(false);
  });
});
