import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { createHttpApp, startHttpServer, type HookDelivery, type StatuslineDelivery } from '../server/app.js';
import { findBash, STATUSLINE_SCRIPT } from './statusline-script.js';

const token = 'statusline-token-0123456789abcdefghijklmnop';
const payload = { session_id: 's-1', transcript_path: '/t/s-1.jsonl', model: { display_name: 'Opus · ünïcode' }, rate_limits: { five_hour: { used_percentage: 42.4, resets_at: 1 }, seven_day: { used_percentage: 5, resets_at: 2 } } };

function run(bash: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(bash, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => { resolve({ code, stdout }); });
    child.stdin.end(JSON.stringify(payload));
  });
}

describe('the bash statusline (no Node)', () => {
  const bash = findBash();
  let dir: string;
  let script: string;
  const delivered: (HookDelivery | StatuslineDelivery)[] = [];
  let server: Awaited<ReturnType<typeof startHttpServer>>;

  beforeAll(async () => {
    dir = await makeTempDir('cf-statusline');
    script = join(dir, 'statusline.sh');
    writeFileSync(script, STATUSLINE_SCRIPT, { mode: 0o700 });
    writeFileSync(join(dir, 'hook-token'), `${token}\n`, { mode: 0o600 });
    server = await startHttpServer(createHttpApp({ health: () => ({ healthy: true, reasons: [], activeAccount: null }), status: () => ({}), requestSwitch: () => Promise.resolve({ ok: true, message: '' }), token: null, hooks: { token, deliver: (e) => delivered.push(e) } }), { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await removeTempDir(dir);
  });

  it.runIf(bash)('posts the JSON (byte length right with non-ASCII text) and the pane to the daemon, and prints our line', async () => {
    delivered.length = 0;
    const out = await run(bash ?? '', [script, server.url], { TMUX_PANE: '%12' });
    expect(out).toEqual({ code: 0, stdout: '⇄ claude-failover · 5h 42%\n' });
    expect(delivered).toMatchObject([{ type: 'statusline', pane: '%12', payload }]);
  });

  it.runIf(bash)('runs the chained user statusline on the same JSON and prints what it prints', async () => {
    delivered.length = 0;
    const out = await run(bash ?? '', [script, server.url, '--chain', `node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log('mine:'+JSON.parse(s).session_id))"`]);
    expect(out).toEqual({ code: 0, stdout: 'mine:s-1\n' });
    expect(delivered).toMatchObject([{ type: 'statusline', pane: null }]);
  });

  it.runIf(bash)('still prints and exits 0 with no daemon listening, and a wrong token delivers nothing', async () => {
    const closed = await startHttpServer(createHttpApp({ health: () => ({ healthy: true, reasons: [], activeAccount: null }), status: () => ({}), requestSwitch: () => Promise.resolve({ ok: true, message: '' }), token: null }), { host: '127.0.0.1', port: 0 });
    await closed.close();
    expect(await run(bash ?? '', [script, closed.url])).toEqual({ code: 0, stdout: '⇄ claude-failover · 5h 42%\n' });
    delivered.length = 0;
    writeFileSync(join(dir, 'hook-token'), 'another-token-0123456789abcdefghijklmnop\n');
    expect((await run(bash ?? '', [script, server.url])).code).toBe(0);
    expect(delivered).toEqual([]);
    writeFileSync(join(dir, 'hook-token'), `${token}\n`);
  });
});
