/** The status page's stylesheet (`/assets/page.css`): no framework, no fonts fetched, reads on a phone. */
export const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #fff; --fg: #1d2330; --muted: #5f6b7a; --line: #dde2e8;
  --ok: #1f8a4c; --warn: #b36b00; --bad: #c62828; --accent: #2f5bd3; --bar: #e6e9ee;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px; line-height: 1.4;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #12151b; --card: #1b2029; --fg: #e4e8ef; --muted: #97a2b3; --line: #2c3340; --bar: #2a303b; --accent: #7ea2ff; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 1.05rem; margin: 0; }
header .spacer { flex: 1; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem; display: grid; gap: 1rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .75rem 1rem 1rem; min-width: 0; }
section h2 { font-size: 1rem; margin: .25rem 0 .75rem; display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
section h2 small { color: var(--muted); font-weight: normal; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .85em; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .78rem; border: 1px solid currentColor; white-space: nowrap; }
.badge.ok { color: var(--ok); } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); } .badge.accent { color: var(--accent); }
.live { font-size: .8rem; color: var(--muted); }
.live::before { content: ""; display: inline-block; width: .55rem; height: .55rem; border-radius: 50%; background: var(--bad); margin-right: .35rem; vertical-align: middle; }
.live.on::before { background: var(--ok); }
.banner { border-radius: 10px; padding: .75rem 1rem; border: 2px solid var(--bad); background: color-mix(in srgb, var(--bad) 10%, var(--card)); }
.banner strong { color: var(--bad); }
.note { border-radius: 10px; padding: .5rem 1rem; border: 1px dashed var(--line); color: var(--muted); }
.accounts { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: .75rem; }
.account { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .75rem; display: grid; gap: .4rem; }
.account.active { border: 2px solid var(--accent); }
.account .name { font-weight: 600; display: flex; gap: .4rem; flex-wrap: wrap; align-items: center; }
.bar { height: .6rem; background: var(--bar); border-radius: 999px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--ok); }
.bar.warn > span { background: var(--warn); } .bar.bad > span { background: var(--bad); }
.windows { display: grid; gap: .35rem; }
.forecast { font-size: .9rem; } .forecast.warn { color: var(--warn); }
.row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; color: var(--muted); font-weight: 600; }
td.error { color: var(--bad); white-space: pre-wrap; font-size: .85rem; }
button, input, select, textarea { font: inherit; color: inherit; }
button { border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px; padding: .3rem .7rem; cursor: pointer; }
button.plain { background: transparent; color: var(--accent); }
button:disabled { opacity: .45; cursor: not-allowed; }
input, select, textarea { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .5rem; min-width: 0; }
input.priority { width: 7rem; }
textarea { width: 100%; min-height: 4rem; resize: vertical; }
form.task { display: grid; gap: .5rem; margin-bottom: .75rem; }
.message { min-height: 1.2rem; font-size: .9rem; }
.message.bad { color: var(--bad); } .message.ok { color: var(--ok); }
ol.timeline { list-style: none; margin: 0; padding: 0; display: grid; gap: .4rem; }
ol.timeline li { border-left: 3px solid var(--line); padding: .1rem .6rem; }
ol.timeline li.done { border-color: var(--ok); } ol.timeline li.bad { border-color: var(--bad); } ol.timeline li.warn { border-color: var(--warn); }
.login { max-width: 24rem; margin: 12vh auto; }
.login form { display: grid; gap: .6rem; }
@media (max-width: 640px) {
  main { padding: .5rem; gap: .6rem; }
  section { padding: .6rem .7rem .8rem; }
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr { border-bottom: 1px solid var(--line); padding: .35rem 0; }
  table.stack td { border: 0; padding: .1rem 0; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .8rem; }
}
`;
