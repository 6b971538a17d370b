/**
 * The status page's script (`/assets/page.js`), plain browser JavaScript: reads the status
 * from `/api/events` (server-sent events) and draws it with DOM calls (never HTML from data),
 * counts resets down every second, and calls the API for the actions. No template literals
 * inside (the text is one).
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var meta = function (name) { var m = document.querySelector('meta[name="' + name + '"]'); return m ? m.getAttribute('content') || '' : ''; };
  var csrf = meta('cf-csrf');
  var actionsOn = meta('cf-actions') === 'on';
  var state = null;
  var skewMs = 0;

  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) for (var k in props) {
      var v = props[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'class') el.className = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) el.appendChild(typeof x === 'string' ? document.createTextNode(x) : x); });
      else el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }
  function fill(id) {
    var el = document.getElementById(id), kids = [];
    Array.prototype.slice.call(arguments, 1).forEach(function (c) { (Array.isArray(c) ? c : [c]).forEach(function (x) { if (x) kids.push(x); }); });
    el.replaceChildren.apply(el, kids);
    return el;
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '?'; }
  function span(ms) {
    var s = Math.max(0, Math.round(ms / 1000)), d = Math.floor(s / 86400), hr = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) return d + 'd ' + hr + 'h';
    if (hr > 0) return hr + 'h ' + m + 'm';
    if (m > 0) return m + 'm ' + (s % 60) + 's';
    return s + 's';
  }
  function countdown(iso) { return h('span', { class: 'countdown', 'data-until': iso }, until(iso)); }
  function until(iso) { var left = Date.parse(iso) - (Date.now() + skewMs); return left > 0 ? 'in ' + span(left) : 'now'; }
  function tick() { document.querySelectorAll('[data-until]').forEach(function (el) { el.textContent = until(el.getAttribute('data-until')); }); }

  function say(text, ok) { var m = document.getElementById('message'); m.textContent = text; m.className = 'message ' + (ok ? 'ok' : 'bad'); }
  function act(method, url, body) {
    if (!actionsOn) { say('Actions are off: set server.token in the config and log in.', false); return Promise.resolve(null); }
    var init = { method: method, credentials: 'same-origin', headers: { 'x-csrf-token': csrf } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        var text = json.message || json.error || (res.ok ? 'done' : 'refused (' + res.status + ')');
        say(text, res.ok);
        if (res.status === 401) location.assign('/login');
        return res.ok ? json : null;
      });
    }, function (err) { say('the daemon did not answer: ' + err.message, false); return null; });
  }
  function switchTo(account) {
    say(account ? 'switching to ' + account + '…' : 'switching to the best account…', true);
    act('POST', '/api/switch', account ? { account: account } : {});
  }

  function accountState(a, active) {
    if (a.exhausted) return h('span', { class: 'badge bad' }, 'exhausted' + (a.kind ? ' · ' + a.kind : ''));
    if (a.nearLimit) return h('span', { class: 'badge warn' }, 'near limit');
    return h('span', { class: 'badge ok' }, 'available');
  }
  // Through the CSSOM: the page's policy refuses style attributes.
  function fillTo(el, pct) { el.style.width = pct + '%'; return el; }
  function usageBar(a) {
    if (a.usagePercent === null || a.usagePercent === undefined) return h('div', { class: 'muted' }, 'usage: not reported yet');
    var pct = Math.max(0, Math.min(100, a.usagePercent));
    var stale = a.usageResetsAt && Date.parse(a.usageResetsAt) <= Date.now() + skewMs;
    var cls = 'bar' + (a.exhausted || pct >= 95 ? ' bad' : a.nearLimit ? ' warn' : '');
    return h('div', null,
      h('div', { class: 'row' }, h('span', null, 'usage ' + Math.round(pct) + '%' + (stale ? ' (window since reset)' : '')),
        a.usageResetsAt && !stale ? h('span', { class: 'muted' }, 'window resets ', countdown(a.usageResetsAt)) : null),
      h('div', { class: cls, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(pct), 'aria-label': a.name + ' usage' },
        fillTo(h('span'), pct)));
  }
  var WINDOW_LABELS = { five_hour: '5-hour', seven_day: 'weekly' };
  function clock(iso) { return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }
  // One labelled bar per window (the latest reading of each not yet reset); the ledger's one reading without them.
  function windowBars(a) {
    var w = a.windows;
    if (!w || (!w.five_hour && !w.seven_day)) return usageBar(a);
    return h('div', { class: 'windows' }, ['five_hour', 'seven_day'].map(function (key) {
      var r = w[key], label = WINDOW_LABELS[key];
      if (!r) return h('div', { 'data-window': key }, h('div', { class: 'row' }, h('span', null, label), h('span', { class: 'muted' }, 'not reported yet')));
      var pct = Math.max(0, Math.min(100, r.percent));
      var cls = 'bar' + (pct >= 95 ? ' bad' : pct >= 80 ? ' warn' : '');
      return h('div', { 'data-window': key },
        h('div', { class: 'row' }, h('span', null, label + ' ' + Math.round(pct) + '%'), r.resetsAt ? h('span', { class: 'muted' }, 'resets ', countdown(r.resetsAt)) : null),
        h('div', { class: cls, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(pct), 'aria-label': a.name + ' ' + label + ' usage' }, fillTo(h('span'), pct)));
    }));
  }
  // The active account's forecast in words; nothing without one (too few readings, usage not rising).
  function forecastLine(f) {
    if (!f || f.state === 'none') return null;
    var label = WINDOW_LABELS[f.window] || f.window;
    var pace = f.percentPerHour !== null ? h('span', { class: 'muted' }, ' · ' + f.percentPerHour + '%/h') : null;
    if (f.state === 'limit' && f.limitAt) return h('div', { class: 'forecast warn', 'data-forecast': 'limit' }, 'At this pace the ' + label + ' limit is reached at ' + clock(f.limitAt) + ' (', countdown(f.limitAt), ')', pace);
    if (f.state === 'reset-first') return h('div', { class: 'forecast', 'data-forecast': 'reset-first' }, 'At this pace the ' + label + ' window resets' + (f.resetsAt ? ' at ' + clock(f.resetsAt) : '') + ' before its limit is reached', pace);
    return null;
  }
  function renderAccounts(s) {
    fill('active-account', s.activeAccount || '(none)');
    fill('link', s.link || '(missing)');
    fill('accounts-list', h('div', { class: 'accounts' }, s.accounts.map(function (a) {
      var active = a.name === s.activeAccount;
      return h('div', { class: 'account' + (active ? ' active' : ''), 'data-account': a.name, 'data-state': a.exhausted ? 'exhausted' : a.nearLimit ? 'near-limit' : 'available', 'data-active': active ? 'yes' : 'no' },
        h('div', { class: 'name' }, a.name, active ? h('span', { class: 'badge accent' }, 'active') : null,
          a.preferred ? h('span', { class: 'badge' }, 'preferred') : null, s.link === a.name ? h('span', { class: 'badge' }, 'link') : null, accountState(a, active)),
        windowBars(a),
        active && s.forecast && s.forecast.account === a.name ? forecastLine(s.forecast) : null,
        a.exhausted ? h('div', null, a.resetsAt ? ['resets ', countdown(a.resetsAt), h('span', { class: 'muted' }, ' (' + when(a.resetsAt) + (a.resetGuessed ? ', guessed' : '') + ')')] : 'reset time unknown') : null,
        h('div', { class: 'muted mono', title: a.home }, a.home),
        active ? null : h('div', null, h('button', { class: 'plain', type: 'button', 'data-switch': a.name, disabled: !actionsOn, onclick: function () { switchTo(a.name); } }, 'Switch to ' + a.name)));
    })));
  }
  function currentTask(name) {
    var tasks = state && state.tasks ? state.tasks.tasks : [];
    for (var i = 0; i < tasks.length; i++) if (tasks[i].state === 'running' && tasks[i].session === name) return tasks[i];
    return null;
  }
  function renderSessions(s) {
    if (s.sessions.length === 0) { fill('sessions-list', h('p', { class: 'muted' }, 'No managed session yet.')); return; }
    fill('sessions-list', h('table', { class: 'stack' },
      h('thead', null, h('tr', null, ['session', 'state', 'account', 'conversation', 'task', 'last error'].map(function (t) { return h('th', { text: t }); }))),
      h('tbody', null, s.sessions.map(function (x) {
        var task = currentTask(x.name);
        var stateClass = x.state === 'working' ? 'ok' : x.state === 'limited' || x.state === 'dead' ? 'bad' : x.state === 'starting' ? 'warn' : '';
        return h('tr', { 'data-session': x.name },
          h('td', { 'data-label': 'session' }, h('strong', null, x.name)),
          h('td', { 'data-label': 'state' }, h('span', { class: 'badge ' + stateClass }, x.state)),
          h('td', { 'data-label': 'account', class: 'session-account' }, x.account || '-'),
          h('td', { 'data-label': 'conversation', class: 'mono', title: x.sessionId || '' }, x.sessionId ? x.sessionId.slice(0, 8) + '…' : '-'),
          h('td', { 'data-label': 'task' }, task ? '#' + task.id + ' ' + task.prompt.slice(0, 60) : '-'),
          h('td', { 'data-label': 'last error', class: x.lastError ? 'error' : 'muted' }, x.lastError ? (x.restarts > 0 ? x.restarts + ' failed launches: ' : '') + x.lastError : '-'));
      }))));
  }
  function swapClass(r) { return r === 'done' ? 'done' : r === 'partial' || r === 'cancelled' ? 'bad' : 'warn'; }
  function renderSwaps(s) {
    if (s.swaps.length === 0) { fill('swaps-list', h('p', { class: 'muted' }, 'No swap yet.')); return; }
    fill('swaps-list', h('ol', { class: 'timeline' }, s.swaps.map(function (w) {
      return h('li', { class: swapClass(w.result), 'data-swap': (w.from || '-') + '>' + (w.to || '-'), 'data-result': w.result },
        h('div', { class: 'row' }, h('strong', null, (w.from || '(none)') + ' → ' + (w.to || '(none)')), h('span', { class: 'badge' }, w.trigger),
          h('span', { class: 'badge ' + (w.result === 'done' ? 'ok' : 'bad') }, w.result), h('span', { class: 'muted' }, when(w.at))),
        w.reason ? h('div', { class: 'muted' }, w.reason) : null);
    })));
  }
  function renderScheduled(s) {
    if (s.scheduled.length === 0) { fill('scheduled-list', h('p', { class: 'muted' }, 'Nothing scheduled.')); return; }
    fill('scheduled-list', h('ul', null, s.scheduled.map(function (j) {
      return h('li', { 'data-job': j.kind }, h('strong', null, j.kind === 'return' ? 'return to the preferred account' : j.kind), ' ', countdown(j.at), h('span', { class: 'muted' }, ' (' + when(j.at) + ')'));
    })));
  }
  function renderBanner(s) {
    var banner = document.getElementById('partial-swap');
    if (!s.partialSwap.set) { banner.hidden = true; return; }
    banner.hidden = false;
    fill('partial-swap', h('strong', null, 'Partial swap' + (s.partialSwap.since ? ' since ' + when(s.partialSwap.since) : '') + ': every swap is refused.'),
      h('div', null, s.partialSwap.reason || ''),
      h('div', null, 'Repair the account layout (', h('code', null, 'claude-failover doctor'), ' says what is wrong; ', h('code', null, 'claude-failover init'), ' often repairs it), then run ', h('code', null, 'claude-failover resolve'), ' on the host.'));
  }
  function renderTasks() {
    var t = state ? state.tasks : null;
    if (!t) { fill('task-counts', h('span', { class: 'muted' }, 'task queue not available from this daemon')); fill('tasks-list'); return; }
    fill('task-counts', Object.keys(t.counts).map(function (k) { return h('span', { class: 'badge', 'data-count': k }, k + ' ' + t.counts[k]); }));
    if (t.tasks.length === 0) { fill('tasks-list', h('p', { class: 'muted' }, 'No task.')); return; }
    fill('tasks-list', h('table', { class: 'stack' },
      h('thead', null, h('tr', null, ['#', 'state', 'prompt', 'session', '', ''].map(function (x) { return h('th', { text: x }); }))),
      h('tbody', null, t.tasks.map(function (x) {
        var open = x.state === 'queued' || x.state === 'running';
        // A fleet's waiting task some hosts found they cannot run (its cwd or its session is not theirs).
        var cannot = x.state === 'queued' && x.cannotRunOn && x.cannotRunOn.length ? 'cannot run on ' + x.cannotRunOn.join(', ') : '';
        var note = [x.error, cannot].filter(Boolean).join(' · ');
        return h('tr', { 'data-task': x.id },
          h('td', { 'data-label': '#' }, String(x.id)),
          h('td', { 'data-label': 'state' }, h('span', { class: 'badge ' + (x.state === 'failed' ? 'bad' : x.state === 'done' ? 'ok' : '') }, x.state)),
          h('td', { 'data-label': 'prompt', title: x.prompt }, x.prompt.length > 120 ? x.prompt.slice(0, 120) + '…' : x.prompt),
          h('td', { 'data-label': 'session' }, x.session || x.target || 'any'),
          h('td', { class: note ? 'error' : '' }, note),
          h('td', null, open ? h('button', { class: 'plain', type: 'button', disabled: !actionsOn, onclick: function () { act('DELETE', '/api/tasks/' + x.id); } }, 'Cancel') : null));
      }))));
  }
  function renderTargets(s) {
    var select = document.getElementById('task-target');
    var names = s.sessions.map(function (x) { return x.name; });
    var have = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
    if (have.join('\n') === names.join('\n')) return;
    var keep = select.value;
    select.replaceChildren.apply(select, [h('option', { value: '' }, 'any autonomous session')].concat(names.map(function (n) { return h('option', { value: n }, n); })));
    select.value = names.indexOf(keep) >= 0 ? keep : '';
  }
  // store.shared: every host of the fleet, and whether this one lost the shared database.
  function renderFleet(s) {
    var f = s.fleet, section = document.getElementById('fleet');
    if (!f) { section.hidden = true; return; }
    section.hidden = false;
    fill('fleet-state', f.degraded
      ? h('span', { class: 'badge bad', 'data-fleet': 'degraded' }, 'degraded since ' + when(f.degraded.since) + ': ' + f.degraded.reason)
      : h('span', { class: 'badge ok', 'data-fleet': 'ok' }, f.shared));
    fill('fleet-list', h('table', { class: 'stack' },
      h('thead', null, h('tr', null, ['host', 'last seen', 'account', 'sessions', 'running tasks'].map(function (t) { return h('th', { text: t }); }))),
      h('tbody', null, f.hosts.map(function (x) {
        return h('tr', { 'data-host': x.name },
          h('td', { 'data-label': 'host' }, h('strong', null, x.name + (x.name === f.host ? ' (this host)' : '')), x.silent ? h('span', { class: 'badge bad', title: 'not seen for 30 s: stopped, or cut off from the shared database' }, 'silent') : null),
          h('td', { 'data-label': 'last seen' }, when(x.lastSeen)),
          h('td', { 'data-label': 'account' }, x.activeAccount || '-'),
          h('td', { 'data-label': 'sessions' }, String(x.sessions)),
          h('td', { 'data-label': 'running tasks' }, String(x.runningTasks)));
      }))));
  }
  function render() {
    if (!state) return;
    var s = state.status;
    skewMs = Date.parse(s.generatedAt) - Date.now() || 0;
    renderBanner(s); renderAccounts(s); renderSessions(s); renderFleet(s); renderSwaps(s); renderScheduled(s); renderTasks(); renderTargets(s);
    document.body.setAttribute('data-active-account', s.activeAccount || '');
    document.body.setAttribute('data-swaps', String(s.swaps.length));
  }

  function live(on, text) { var el = document.getElementById('live'); el.className = 'live' + (on ? ' on' : ''); el.textContent = text; }
  var source = null;
  function connect() {
    source = new EventSource('/api/events');
    source.addEventListener('status', function (e) { state = JSON.parse(e.data); render(); live(true, 'live'); });
    source.addEventListener('heartbeat', function () { live(true, 'live'); });
    source.onerror = function () {
      live(false, 'reconnecting…');
      if (source.readyState === EventSource.CLOSED) {
        // Refused (logged out, the daemon restarted with another token) or gone: ask once, then retry.
        fetch('/api/status', { credentials: 'same-origin' }).then(function (res) {
          if (res.status === 401) location.assign('/login'); else setTimeout(connect, 2000);
        }, function () { setTimeout(connect, 2000); });
      }
    };
  }

  document.getElementById('switch-best').addEventListener('click', function () { switchTo(null); });
  document.getElementById('task-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var form = e.target, prompt = form.elements.prompt.value.trim();
    if (!prompt) { say('a task needs a prompt', false); return; }
    var body = { prompt: prompt };
    if (form.elements.target.value) body.session = form.elements.target.value;
    var priority = Number(form.elements.priority.value);
    if (form.elements.priority.value !== '' && Number.isFinite(priority)) body.priority = priority;
    act('POST', '/api/tasks', body).then(function (ok) { if (ok) form.elements.prompt.value = ''; });
  });
  setInterval(tick, 1000);
  connect();
})();
`;
