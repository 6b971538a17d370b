/** The status page's HTML: a skeleton the script fills from the event stream. */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const head = (title: string, extra = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
${extra}<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/page.css">
</head>`;

export interface PageView {
  /** The session's CSRF token ('' when there is no session). */
  readonly csrf: string;
  /** Actions are possible: a token is configured and this browser is logged in. */
  readonly actions: boolean;
  /** How this browser reads the page. */
  readonly auth: 'session' | 'bearer' | 'open';
}

export function statusPageHtml(view: PageView): string {
  const authNote =
    view.auth === 'open'
      ? '<div class="note" id="actions-off">Read-only: no <code>server.token</code> is set in the config, so switching, tasks and other actions are refused. Set one (at least 16 characters) and restart the daemon to use them here.</div>'
      : '';
  const account =
    view.auth === 'session'
      ? '<form method="post" action="/logout"><button class="plain" type="submit">Log out</button></form>'
      : view.auth === 'bearer'
        ? '<span class="muted">bearer token</span>'
        : '';
  return `${head('claude-failover', `<meta name="cf-csrf" content="${escapeHtml(view.csrf)}">\n<meta name="cf-actions" content="${view.actions ? 'on' : 'off'}">\n`)}
<body>
<header>
  <h1>claude-failover</h1>
  <span>active: <strong id="active-account">…</strong></span>
  <span class="muted">link → <span id="link">…</span></span>
  <span class="spacer"></span>
  <span id="live" class="live">connecting…</span>
  ${account}
</header>
<main>
  <div id="partial-swap" class="banner" role="alert" hidden></div>
  ${authNote}
  <section id="accounts">
    <h2>Accounts <button id="switch-best" type="button"${view.actions ? '' : ' disabled'}>Switch to the best now</button></h2>
    <div id="message" class="message" role="status" aria-live="polite"></div>
    <div id="accounts-list"><p class="muted">waiting for the daemon…</p></div>
  </section>
  <section id="sessions">
    <h2>Sessions</h2>
    <div id="sessions-list"></div>
  </section>
  <section id="tasks">
    <h2>Task queue <small id="task-counts"></small></h2>
    <form id="task-form" class="task">
      <textarea name="prompt" placeholder="A task for an idle session: the prompt it is given" aria-label="task prompt"${view.actions ? '' : ' disabled'}></textarea>
      <div class="row">
        <select name="target" id="task-target" aria-label="session"><option value="">any autonomous session</option></select>
        <input name="priority" type="number" step="1" placeholder="priority" aria-label="priority" class="priority">
        <button type="submit"${view.actions ? '' : ' disabled'}>Add task</button>
      </div>
    </form>
    <div id="tasks-list"></div>
  </section>
  <section id="fleet" hidden>
    <h2>Fleet <small id="fleet-state"></small></h2>
    <div id="fleet-list"></div>
  </section>
  <section id="swaps">
    <h2>Swap history</h2>
    <div id="swaps-list"></div>
  </section>
  <section id="scheduled">
    <h2>Scheduled</h2>
    <div id="scheduled-list"></div>
  </section>
</main>
<script src="/assets/page.js"></script>
</body>
</html>
`;
}

export function loginPageHtml(error: string | null): string {
  return `${head('claude-failover: log in')}
<body>
<main class="login">
  <section>
    <h2>claude-failover</h2>
    <form method="post" action="/login">
      <label for="token">The daemon's <code>server.token</code></label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
      <button type="submit">Log in</button>
      ${error ? `<div class="message bad" role="alert">${escapeHtml(error)}</div>` : ''}
    </form>
  </section>
</main>
</body>
</html>
`;
}
