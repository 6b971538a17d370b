import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createSandbox, type Sandbox } from '../demo/sandbox.js';
import { createTmuxClient, type TmuxClient } from '../tmux/client.js';
import { launchCommandLine } from '../claude/launch-command.js';
import { transcriptPath } from '../claude/transcript-record.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { transcripts, userPrompts } from '../../test/helpers/e2e.js';
import { limitMenuOpen } from '../claude/screen-state.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { deliverPrompt } from './deliver-prompt.js';
import { PromptReceipts } from './prompt-receipts.js';

const sessionId = '0b5e3c1a-1f2e-4d5c-9a8b-7c6d5e4f3a2b';
function writeQuota(home: string, quota: Record<string, unknown>): void {
  writeFileSync(join(home, 'fake-quota.json'), JSON.stringify(quota));
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Typing into the fake Claude Code (as strict as the real one) before it reads its input. */
describe('deliverPrompt (real tmux, fake Claude Code)', () => {
  let root: string;
  let socket: string;
  let tmux: TmuxClient;
  let sandbox: Sandbox;

  beforeEach(async () => {
    root = await makeTempDir('cf-deliver');
    socket = privateSocketName('cf-deliver');
    tmux = createTmuxClient({ socket });
    sandbox = await createSandbox({ root, socket, accounts: [{ name: 'A', quota: { limit: 100, turnMs: 50 } }], dedicated: ['web'] });
  });

  afterEach(async () => {
    tmux.close();
    await killPrivateServer(socket);
    await removeTempDir(root);
  });

  /** Launches the fake with a long start-up: keys typed at once lose their Enter, their text stays. */
  async function launchSlowStarter(startupMs: number): Promise<{ paneId: string; transcript: string }> {
    const account = sandbox.config.accounts[0];
    if (!account) throw new Error('no account');
    const cwd = realpathSync(sandbox.config.pool.dedicated[0]?.project ?? '');
    const { command, args, env } = sandbox.config.claude;
    const line = launchCommandLine({ accountHome: account.home, command, args, env: { ...env, FAKE_CLAUDE_STARTUP_MS: String(startupMs) }, newSessionId: sessionId });
    const { paneId } = await tmux.newSession({ name: 'slow', cwd, command: line, keepPaneOnExit: true });
    return { paneId, transcript: transcriptPath(account.home, cwd, sessionId) };
  }

  it('sends Enter only once the typed text shows: a prompt typed while Claude Code starts is submitted once, on the first try', async () => {
    const { paneId, transcript } = await launchSlowStarter(1500);
    const toldWorking: string[] = [];
    const delivery = await deliverPrompt({ tmux, receipts: new PromptReceipts(), sleep, confirmMs: 2500, confirmedByTranscript: (name) => toldWorking.push(name) }, { name: 'slow', target: paneId, transcript: () => Promise.resolve(transcript) }, 'Continue the task');
    expect(delivery).toEqual({ delivered: true, attempts: 1 });
    expect(userPrompts(transcripts(sandbox).get(sessionId) ?? [])).toEqual(['Continue the task']);
    // No hook came (no monitor here): the transcript confirmed it, and the session is told to be working.
    expect(toldWorking).toEqual(['slow']);
  });

  it('presses Enter again, without typing the text twice, when an Enter was lost and the text sits in the input line', async () => {
    // Slower to start than the wait for the text to show: the first Enter is sent too early and lost.
    const { paneId, transcript } = await launchSlowStarter(4000);
    const delivery = await deliverPrompt({ tmux, receipts: new PromptReceipts(), sleep, confirmMs: 1500 }, { name: 'slow', target: paneId, transcript: () => Promise.resolve(transcript) }, 'Continue the task');
    expect(delivery.delivered).toBe(true);
    expect(delivery.attempts).toBeGreaterThan(1);
    expect(userPrompts(transcripts(sandbox).get(sessionId) ?? [])).toEqual(['Continue the task']);
  });

  it('is confirmed at once by a UserPromptSubmit receipt, and reports a prompt that never lands', async () => {
    const receipts = new PromptReceipts();
    const { paneId } = await launchSlowStarter(0);
    // The monitor notes the hook; here the receipt stands in for it, for a session that never writes a transcript.
    const toldWorking: string[] = [];
    const typed = deliverPrompt({ tmux, receipts, sleep, confirmMs: 400, attempts: 2, confirmedByTranscript: (name) => toldWorking.push(name) }, { name: 'fast', target: paneId, transcript: () => Promise.resolve(null) }, 'Hello');
    await sleep(100);
    receipts.note('fast', 'Hello');
    expect(await typed).toEqual({ delivered: true, attempts: 1 });
    // The hook said so itself: nothing more to tell.
    expect(toldWorking).toEqual([]);
    const lost = await deliverPrompt({ tmux, receipts: new PromptReceipts(), sleep, confirmMs: 300, attempts: 2 }, { name: 'fast', target: paneId, transcript: () => Promise.resolve(null) }, 'Nobody confirms this');
    expect(lost).toEqual({ delivered: false, attempts: 2 });
  });

  it("closes the rate-limit menu Claude Code 2.0.x reopens over a resumed conversation's old limit before typing: nothing typed is lost in it, no Enter picks its options", async () => {
    const account = sandbox.config.accounts[0];
    if (!account) throw new Error('no account');
    const cwd = realpathSync(sandbox.config.pool.dedicated[0]?.project ?? '');
    const transcript = transcriptPath(account.home, cwd, sessionId);
    writeQuota(account.home, { limit: 100, turnMs: 50, reopenLimitMenu: true });
    mkdirSync(dirname(transcript), { recursive: true });
    const at = new Date().toISOString();
    const common = { isSidechain: false, userType: 'external', cwd, sessionId, version: '2.0.77', gitBranch: '' };
    writeFileSync(
      transcript,
      [
        { ...common, parentUuid: null, type: 'user', message: { role: 'user', content: 'Refactor the parser' }, uuid: 'u1', timestamp: at },
        { ...common, parentUuid: 'u1', type: 'assistant', uuid: 'a1', timestamp: at, isApiErrorMessage: true, error: 'rate_limit', message: { role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: "You've hit your limit · resets 5:18pm (UTC)" }] } },
      ].map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    const { command, args, env } = sandbox.config.claude;
    const { paneId } = await tmux.newSession({ name: 'menu', cwd, command: launchCommandLine({ accountHome: account.home, command, args, env, resumeId: sessionId }), keepPaneOnExit: true });
    await waitFor(async () => limitMenuOpen(await tmux.capturePane(paneId, 30)), { what: 'the menu reopened on resume' });

    const receipts = new PromptReceipts();
    const delivering = deliverPrompt({ tmux, receipts, sleep }, { name: 'menu', target: paneId, transcript: () => Promise.resolve(transcript) }, 'Continue the task');
    // While it types, nothing else (the screen poll closing menus) sends keys to the session.
    expect(receipts.beingTyped('menu')).toBe(true);
    const delivery = await delivering;
    expect(receipts.beingTyped('menu')).toBe(false);
    expect(delivery).toEqual({ delivered: true, attempts: 1 });
    expect(userPrompts(transcripts(sandbox).get(sessionId) ?? [])).toEqual(['Refactor the parser', 'Continue the task']);
  });
});
