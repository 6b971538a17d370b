import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs it), driven by playwright-core. */
const CHROMIUM = '/usr/bin/chromium';
// launch() gives each browser a fresh temporary profile (user-data-dir), removed at close.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Headless Chromium for the status page's tests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}

/** Logs `page` in to the daemon at `url` through its login form with `token`; resolves on the status page. */
export async function logInWithToken(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${url}/`), page.click('button[type=submit]')]);
}
