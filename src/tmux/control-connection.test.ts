import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTmuxClient, type TmuxClient } from './client.js';
import { controlCommandLine } from './control-connection.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { shellQuote } from '../claude/shell-quote.js';

describe('tmux control mode (real tmux, private socket)', () => {
  const socket = privateSocketName('cf-ctl');
  let dir: string;
  let log: string;
  let plain: TmuxClient;
  let fast: TmuxClient;
  let pool = ['p1', 'p2'];
  /** Every tmux process the client starts, one line each: the wrapper logs, then runs tmux. */
  const processes = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

  beforeAll(async () => {
    dir = await makeTempDir('cf-ctl');
    log = join(dir, 'tmux-calls.log');
    writeFileSync(log, '');
    const wrapper = join(dir, 'tmux');
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${shellQuote(log)}\nexec tmux "$@"\n`);
    chmodSync(wrapper, 0o755);
    plain = createTmuxClient({ socket });
    fast = createTmuxClient({ socket, tmuxPath: wrapper, controlMode: { sessions: () => pool } });
    for (const name of ['p1', 'p2', 'outside']) await plain.newSession({ name, cwd: dir, command: `printf 'screen of %s\\n' ${name}; exec cat` });
    await waitFor(async () => (await plain.capturePane('p2', 5)).includes('screen of p2'), { what: 'the screens drawn' });
  });

  afterAll(async () => {
    fast.close();
    await killPrivateServer(socket);
    await removeTempDir(dir);
  });

  it('answers captures and pane lists over one connection, with no tmux process per call', async () => {
    const panes = await plain.listPanes();
    const ids = panes.map((p) => p.paneId);
    await fast.captureMany(ids, 5); // opens the connection: one list-sessions and one attach
    const opened = processes().length;
    expect(processes().filter((l) => l.includes('-C attach-session'))).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      const captures = await fast.captureMany(ids, 5);
      expect(captures).toEqual(await plain.captureMany(ids, 5));
      expect(await fast.listPanes()).toEqual(await plain.listPanes());
    }
    expect(processes()).toHaveLength(opened);
    // It sits on a pool session, read-only, and changes nobody's size.
    const clients = execFileSync('tmux', ['-L', socket, 'list-clients', '-F', '#{session_name} #{client_control_mode} #{client_readonly}'], { encoding: 'utf8' });
    expect(clients.trim()).toMatch(/^p[12] 1 1$/);
    expect(panes.every((p) => p.width === 200)).toBe(true);
    expect((await plain.listPanes()).every((p) => p.width === 200)).toBe(true);
  });

  it('leaves a vanished pane out and keeps answering the others', async () => {
    const p2 = (await plain.paneInfo('p2')).paneId;
    const captures = await fast.captureMany(['%9999', p2], 5);
    expect([...captures.keys()]).toEqual([p2]);
    expect(captures.get(p2)).toContain('screen of p2');
  });

  it('survives the session it sits on going away: that call takes a process, the next connection another session', async () => {
    const attachedTo = execFileSync('tmux', ['-L', socket, 'list-clients', '-F', '#{session_name}'], { encoding: 'utf8' }).trim();
    const other = attachedTo === 'p1' ? 'p2' : 'p1';
    await plain.killSession(attachedTo);
    const otherPane = (await plain.paneInfo(other)).paneId;
    await waitFor(async () => (await fast.captureMany([otherPane], 5)).get(otherPane)?.includes(`screen of ${other}`) === true, { what: 'a capture after the session went' });
    await waitFor(async () => {
      await fast.listPanes();
      return processes().filter((l) => l.includes('-C attach-session')).length === 2;
    }, { what: 'a new connection on the other pool session' });
  });

  it('never attaches to a session outside the pool, and uses processes when the pool has none', async () => {
    pool = [];
    const before = processes().length;
    fast.close();
    const outside = (await plain.paneInfo('outside')).paneId;
    expect((await fast.captureMany([outside], 5)).get(outside)).toContain('screen of outside');
    expect(processes().length).toBe(before + 1);
    expect(processes().at(-1)).toContain('capture-pane');
  });

  it('sends only arguments it can quote plainly', () => {
    expect(controlCommandLine(['capture-pane', '-p', '-t', '%3'])).toBe("'capture-pane' '-p' '-t' '%3'");
    expect(controlCommandLine(['display-message', '-p', "it's"])).toBeNull();
    expect(controlCommandLine(['display-message', '-p', 'two\nlines'])).toBeNull();
  });
});
