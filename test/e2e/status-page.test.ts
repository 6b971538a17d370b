import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxAccount } from '../../src/demo/sandbox.js';
import { waitForIdlePool } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait-for.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { PARTIAL_SWAP_FLAG } from '../../src/switcher/types.js';

/**
 * The status page as a person sees it: Debian's Chromium, headless, driven by playwright-core,
 * against an in-process daemon on the sandbox (fake Claude Code, private tmux). Every wait is
 * bounded; nothing is timed. Screenshots go to test-artifacts/status-page/.
 */

const TOKEN = 'status-page-token-0123456789';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'status-page');
/** How long the page may take to show what the daemon did (bounded, not a timing claim). */
const SHOWN_MS = 30_000;
const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const accounts = (): SandboxAccount[] => [
  // A runs out after a few turns; its window resets in an hour, so a return is scheduled, not run.
  { name: 'A', quota: { limit: 4, used: 0, resetsAt: Math.floor(Date.now() / 1000) + 3600, windowSeconds: 3600, turnMs: 200 } },
  { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
  { name: 'C', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
];

/**
 * Waits (bounded) until `expression` holds in the page. Read from outside the page (the
 * devtools protocol): waitForFunction evaluates inside it, which the page's policy forbids.
 */
async function shows(page: Page, expression: string, what: string, timeoutMs = SHOWN_MS): Promise<void> {
  try {
    await waitFor(async () => (await page.evaluate(expression)) === true, { timeoutMs, intervalMs: 100, what });
  } catch (err) {
    const text = await page.locator('main').innerText().catch(() => '(no page)');
    throw new Error(`the page did not show ${what}: ${String(err)}\n--- page text ---\n${text}`);
  }
}

/** A page on another origin (127.0.0.1, another port: the same *site* to a browser) that posts to the daemon. */
async function startForeignSite(target: string): Promise<{ url: string; server: Server }> {
  const html = `<!doctype html><html><body>
<form id="f" method="post" action="${target}/api/switch" enctype="text/plain"><input type="hidden" name='{"account":"B","pad":"' value='"}'></form>
<script>document.getElementById('f').submit();</script>
</body></html>`;
  const fetchPage = `<!doctype html><html><body><script>
fetch(${JSON.stringify(`${target}/api/switch`)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"account":"B"}' });
</script></body></html>`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(req.url === '/fetch' ? fetchPage : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('status page in a real browser (headless Chromium, sandbox daemon, fake Claude Code)', () => {
  const e2e = useE2e('cf-page');
  let browser: Browser | null = null;
  const launched = () => {
    if (!browser) throw new Error('Chromium did not start');
    return browser;
  };
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('logs in with the token, shows accounts, sessions and the active account, shows a swap live, switches from the page, and refuses what lacks the token or comes from another origin', async () => {
    const sandbox = await e2e.sandbox({ accounts: accounts(), autonomous: { min: 1, max: 1 }, dedicated: ['web'], monitor: { cooldownMs: 0 }, server: { token: TOKEN } });
    const d = await e2e.startDaemon(sandbox, { http: true });
    const url = d.httpUrl ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitForIdlePool(d, ['auto-1', 'web']);

    const context = await launched().newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      // Not logged in: the page sends to the login form; then the token, once.
      await page.goto(`${url}/`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.fill('#token', 'not-the-token-of-this-daemon');
      await page.click('button[type=submit]');
      expect(await page.locator('[role=alert]').innerText()).toContain('not the server.token');
      await page.fill('#token', TOKEN);
      await Promise.all([page.waitForURL(`${url}/`), page.click('button[type=submit]')]);
      const cookie = (await context.cookies(url)).find((c) => c.name === 'cf_session');
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe('Strict');

      await shows(page, "document.body.dataset.activeAccount === 'A' && document.querySelectorAll('[data-account]').length === 3", 'the three accounts with A active');
      expect(await page.locator('#active-account').innerText()).toBe('A');
      expect(await page.locator('[data-account=A]').getAttribute('data-active')).toBe('yes');
      await shows(page, "['auto-1', 'web'].every((n) => document.querySelector('[data-session=\"' + n + '\"] .session-account')?.textContent === 'A')", 'both sessions on A');
      expect(await page.locator('[data-session=web]').innerText()).toContain('idle');
      // A mark that a reload would wipe: the swap must reach this very document.
      await page.evaluate("window.sameDocument = 'yes'");

      // The limit: auto-1 works past A's quota; the daemon moves the pool to B.
      expect(await d.pool.sendPrompt('auto-1', 'Work through the backlog [turns=8]')).toBe(true);
      await shows(page, "document.body.dataset.activeAccount === 'B' && document.querySelector('[data-swap=\"A>B\"][data-result=done]') !== null", 'the swap A → B', 60_000);
      expect(await page.evaluate('window.sameDocument')).toBe('yes');
      expect(e2e.doneSwaps().map((s) => [s.from, s.to])).toEqual([['A', 'B']]);
      await shows(page, "document.querySelector('[data-account=A]').dataset.state === 'exhausted' && document.querySelector('[data-job]') !== null", 'A exhausted and its return scheduled');
      await shows(page, "['auto-1', 'web'].every((n) => document.querySelector('[data-session=\"' + n + '\"] .session-account')?.textContent === 'B')", 'both sessions on B');
      expect(await page.locator('[data-swap="A>B"]').innerText()).toContain('limit');

      await page.screenshot({ path: join(ARTIFACTS, 'desktop.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      // Reads on a phone: nothing wider than the screen.
      await shows(page, 'document.documentElement.scrollWidth <= window.innerWidth', 'a layout no wider than a phone');
      await page.screenshot({ path: join(ARTIFACTS, 'phone.png'), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      // Switch from the page (logged in): to C.
      await page.click('button[data-switch=C]');
      await shows(page, "document.body.dataset.activeAccount === 'C' && document.querySelector('[data-swap=\"B>C\"][data-result=done]') !== null", 'the manual switch to C');
      expect(d.store.getActiveAccount()).toBe('C');
      expect(await page.locator('[data-swap="B>C"]').innerText()).toContain('manual');
      const swapsAfterSwitch = d.store.listSwaps(100).length;

      // A task added from the page, then cancelled from it (queued or already running: either is cancellable).
      await page.fill('textarea[name=prompt]', 'Summarise the changelog [turns=40]');
      await page.selectOption('#task-target', 'web');
      await page.click('#task-form button[type=submit]');
      await shows(page, "document.querySelector('[data-task] button') !== null", 'the new task with its Cancel button');
      const [task] = await d.store.tasks.list();
      expect(task?.prompt).toBe('Summarise the changelog [turns=40]');
      expect(task?.target).toBe('web');
      await page.click(`[data-task="${String(task?.id)}"] button`);
      await shows(page, `document.querySelector('[data-task="${String(task?.id)}"]')?.innerText.includes('cancelled') === true`, 'the task cancelled');
      expect((await d.store.tasks.get(task?.id ?? 0))?.state).toBe('cancelled');

      // Another origin on 127.0.0.1 (the same site: the SameSite cookie goes along) posts a form, then a no-cors fetch.
      const foreign = await startForeignSite(url);
      try {
        const foreignPage = await context.newPage();
        const [formAnswer] = await Promise.all([foreignPage.waitForResponse((r) => r.url() === `${url}/api/switch`), foreignPage.goto(foreign.url, { waitUntil: 'commit' })]);
        expect(formAnswer.status()).toBe(403);
        expect(await formAnswer.text()).toContain('another origin');
        const [fetchAnswer] = await Promise.all([foreignPage.waitForResponse((r) => r.url() === `${url}/api/switch`), foreignPage.goto(`${foreign.url}/fetch`, { waitUntil: 'commit' })]);
        expect(fetchAnswer.status()).toBe(403);
      } finally {
        await new Promise<void>((resolve) => foreign.server.close(() => { resolve(); }));
      }
      expect(d.store.getActiveAccount()).toBe('C');
      expect(d.store.listSwaps(100).length).toBe(swapsAfterSwitch);
    } finally {
      await context.close();
    }

    // A browser that never logged in reads nothing and changes nothing.
    const stranger = await launched().newContext();
    try {
      const page = await stranger.newPage();
      await page.goto(`${url}/`);
      expect(new URL(page.url()).pathname).toBe('/login');
      const answers = await page.evaluate(`Promise.all([
        fetch('/api/status').then((r) => r.status),
        fetch('/api/events').then((r) => r.status),
        fetch('/api/switch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"account":"A"}' }).then((r) => r.status),
      ])`);
      expect(answers).toEqual([401, 401, 401]);
      expect(d.store.getActiveAccount()).toBe('C');
    } finally {
      await stranger.close();
    }
  });

  it('without server.token: the page is readable, says actions are off, a switch is refused; both usage windows and the forecast show; a partial swap shows as a banner', async () => {
    // B without a quota file: the fake reports no usage of its own, so B's readings are the test's alone.
    const sandbox = await e2e.sandbox({ accounts: [{ name: 'B', quota: null }, ...accounts().slice(2)], autonomous: { min: 1, max: 1 } });
    const d = await e2e.startDaemon(sandbox, { http: true });
    await waitForIdlePool(d, ['auto-1']);
    // The page writes times in the browser's locale and zone: pinned, so the test can write them too.
    const context = await launched().newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US', timezoneId: TIME_ZONE });
    try {
      const page = await context.newPage();
      await page.goto(`${d.httpUrl ?? ''}/`);
      await shows(page, "document.body.dataset.activeAccount === 'B' && document.querySelector('[data-session=\"auto-1\"]') !== null", 'the account and the session');
      expect(await page.locator('#actions-off').innerText()).toContain('server.token');
      expect(await page.locator('#switch-best').isDisabled()).toBe(true);
      expect(await page.locator('button[data-switch=C]').isDisabled()).toBe(true);
      const answer = await page.evaluate(`fetch('/api/switch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"account":"C"}' }).then(async (r) => [r.status, (await r.json()).error])`);
      expect(answer).toEqual([403, expect.stringContaining('server.token')]);
      expect(d.store.getActiveAccount()).toBe('B');
      // Usage readings of both windows (written as the monitor writes them): a labelled bar for each, and
      // the forecast under the active account (a steady 30%/h from 50%: the 5-hour limit in 100 minutes).
      const now = Date.now();
      for (const [minutesAgo, percent] of [[20, 40], [10, 45], [0, 50]] as const) {
        d.store.addUsageReading({ account: 'B', window: 'five_hour', percent, resetsAt: new Date(now + 4 * 3_600_000), source: 'statusline', at: new Date(now - minutesAgo * 60_000) });
      }
      d.store.addUsageReading({ account: 'B', window: 'seven_day', percent: 20, resetsAt: new Date(now + 3 * 86_400_000), source: 'statusline', at: new Date(now) });
      await shows(page, "document.querySelector('[data-account=B] [data-forecast=limit]') !== null && document.querySelector('[data-account=B] [data-window=seven_day] [role=meter]') !== null", 'both windows and the forecast');
      const card = page.locator('[data-account=B]');
      expect(await card.locator('[data-window=five_hour] [role=meter]').getAttribute('aria-label')).toBe('B 5-hour usage');
      expect(await card.locator('[data-window=five_hour] [role=meter]').getAttribute('aria-valuenow')).toBe('50');
      expect(await card.locator('[data-window=five_hour]').innerText()).toMatch(/5-hour 50%\s+resets in (3h 5\dm|4h 0m)/);
      expect(await card.locator('[data-window=seven_day]').innerText()).toMatch(/weekly 20%\s+resets in (2d 23h|3d 0h)/);
      const limitAt = new Date(now + 100 * 60_000).toLocaleTimeString('en-US', { hour: '2-digit', minute: '2-digit', timeZone: TIME_ZONE });
      expect(await card.locator('[data-forecast]').innerText()).toMatch(/^At this pace the 5-hour limit is reached at .+ \(in 1h (3[89]|40)m\) · 30%\/h$/);
      expect(await card.locator('[data-forecast]').innerText()).toContain(limitAt);
      // C has no reading: no bars of its own windows, no forecast (it is not the active account).
      expect(await page.locator('[data-account=C] [data-window]').count()).toBe(0);
      expect(await page.locator('[data-account=C] [data-forecast]').count()).toBe(0);
      // A partial swap (set here as the switcher sets it) becomes a banner saying what to do, on the open page.
      d.store.setFlag(PARTIAL_SWAP_FLAG, 'flip back failed: the link could not be restored');
      await shows(page, "!document.getElementById('partial-swap').hidden", 'the partial-swap banner');
      const banner = await page.locator('#partial-swap').innerText();
      expect(banner).toContain('flip back failed');
      expect(banner).toContain('claude-failover resolve');
      await page.screenshot({ path: join(ARTIFACTS, 'phone-read-only.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
