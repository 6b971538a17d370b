import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTmuxClient } from '../tmux/client.js';
import { silentLogger } from '../log.js';
import { shellQuote } from '../claude/shell-quote.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { closeReopenedMenus, type ReopenedMenu } from './reopened-menu.js';

const menuScreen = join(import.meta.dirname, '../../test/fixtures/screens/limit-menu-reopened.txt');

/** Panes that show a screen and record, byte by byte, the keys they then receive. */
describe('closeReopenedMenus (real tmux, private socket)', () => {
  const socket = privateSocketName('cf-menu');
  const tmux = createTmuxClient({ socket });
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    dir = await makeTempDir('cf-menu');
  });
  afterAll(async () => {
    tmux.close();
    await killPrivateServer(socket);
    await removeTempDir(dir);
  });

  async function paneShowing(screen: string): Promise<{ paneId: string; keys: () => string }> {
    const keysFile = join(dir, `keys-${String(++n)}`);
    const script = `cat ${shellQuote(screen)}; stty raw -echo; dd bs=1 count=1 of=${shellQuote(keysFile)} 2>/dev/null; sleep 60`;
    const { paneId } = await tmux.newSession({ name: `menu-${String(n)}`, cwd: dir, command: script });
    await waitFor(async () => (await tmux.capturePane(paneId, 30)).includes(screen === menuScreen ? 'What do you want to do?' : 'idle'), { what: 'the screen drawn' });
    return {
      paneId,
      keys: () => {
        try {
          return readFileSync(keysFile, 'utf8');
        } catch {
          return '';
        }
      },
    };
  }

  /** The first key the pane got: Escape from the call, or the sentinel sent after it. */
  async function firstKey(pane: { paneId: string; keys: () => string }): Promise<string> {
    await tmux.sendKeys(pane.paneId, ['-l', 'x']);
    return waitFor(() => pane.keys() || undefined, { what: 'a key read by the pane' });
  }

  const deps = (typed: ReadonlySet<string>, launches: ReadonlyMap<string, number>) => ({
    tmux,
    logger: silentLogger(),
    launchNumber: (s: string) => launches.get(s) ?? 0,
    beingTyped: (s: string) => typed.has(s),
  });

  it('sends Escape to a menu still on screen, in the launch it was seen in, with nothing being typed', async () => {
    const pane = await paneShowing(menuScreen);
    const menus: ReopenedMenu[] = [{ session: 'web', paneId: pane.paneId, launch: 3 }];
    await closeReopenedMenus(deps(new Set(), new Map([['web', 3]])), menus);
    expect(await firstKey(pane)).toBe('\u001b');
  });

  it('sends nothing while a prompt is being typed into the session, after a relaunch, or once the menu is gone', async () => {
    const typing = await paneShowing(menuScreen);
    const relaunched = await paneShowing(menuScreen);
    const idlePath = join(dir, 'idle.txt');
    writeFileSync(idlePath, 'idle prompt\n❯ \n');
    const gone = await paneShowing(idlePath);
    await closeReopenedMenus(deps(new Set(['typing']), new Map([['typing', 1], ['relaunched', 2], ['gone', 1]])), [
      { session: 'typing', paneId: typing.paneId, launch: 1 },
      { session: 'relaunched', paneId: relaunched.paneId, launch: 1 },
      { session: 'gone', paneId: gone.paneId, launch: 1 },
    ]);
    for (const pane of [typing, relaunched, gone]) expect(await firstKey(pane)).toBe('x');
  });
});
