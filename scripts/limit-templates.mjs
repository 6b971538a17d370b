#!/usr/bin/env node
// Re-reads the usage-limit templates of test/fixtures/limit-templates/templates.json out of
// installed Claude Code releases, so the fixture stays what the CLI really prints.
//
//   node scripts/limit-templates.mjs <cache dir>            check every entry's evidence
//   node scripts/limit-templates.mjs <cache dir> <version>  also list the version's candidates
//
// <cache dir>/<version> is an npm prefix holding @anthropic-ai/claude-code@<version>
// (npm install --prefix <cache dir>/<version> @anthropic-ai/claude-code@<version>).
// Not part of npm test: it needs the releases, which are not a dependency of this package.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [cacheDir, listVersion] = process.argv.slice(2);
if (!cacheDir) {
  console.error('usage: node scripts/limit-templates.mjs <cache dir> [version]');
  process.exit(2);
}
const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/limit-templates/templates.json', import.meta.url), 'utf8'));

/** Older releases ship a JavaScript bundle; newer ones a native executable in a platform package. */
function bundlePath(version) {
  const modules = join(cacheDir, version, 'node_modules', '@anthropic-ai');
  const candidates = [join(modules, 'claude-code', 'cli.js')];
  if (existsSync(modules)) {
    for (const name of readdirSync(modules).filter((n) => n.startsWith('claude-code-'))) candidates.push(join(modules, name, 'claude'), join(modules, name, 'claude.exe'));
  }
  candidates.push(join(modules, 'claude-code', 'bin', 'claude.exe'));
  return candidates.find((p) => existsSync(p)) ?? null;
}

// The bundles hold UI text either as UTF-8 or as JavaScript escapes, depending on the build.
const SAME = { '·': ['·', '\\xB7', '\\u00B7'], '∙': ['∙', '\\u2219'], '–': ['–', '\\u2013'], '’': ['’', '\\u2019'] };
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const latin1 = (s) => Buffer.from(s, 'utf8').toString('latin1');
function needle(evidence) {
  let text = evidence;
  for (const [char, forms] of Object.entries(SAME)) for (const form of forms.slice(1)) text = text.split(form).join(char);
  const parts = [...text].map((c) => (SAME[c] ? `(?:${SAME[c].map((f) => escape(latin1(f))).join('|')})` : escape(latin1(c))));
  return new RegExp(parts.join(''));
}

const bundles = new Map();
let missing = 0;
for (const entry of fixture.templates) {
  if (!bundles.has(entry.version)) {
    const path = bundlePath(entry.version);
    bundles.set(entry.version, path ? readFileSync(path, 'latin1') : null);
    console.log(`${entry.version}: ${path ?? 'not installed'}`);
  }
  const text = bundles.get(entry.version);
  if (text === null) continue;
  for (const evidence of entry.evidence) {
    if (needle(evidence).test(text)) continue;
    missing++;
    console.log(`  MISSING in ${entry.version}: ${JSON.stringify(evidence)}  (${entry.rendered})`);
  }
}

if (listVersion) {
  const path = bundlePath(listVersion);
  if (!path) throw new Error(`${listVersion} is not installed under ${cacheDir}`);
  const text = readFileSync(path, 'latin1');
  const literal = /"((?:[^"\\\n]|\\.){6,300})"|'((?:[^'\\\n]|\\.){6,300})'|`((?:[^`\\]|\\.){6,400})`/g;
  const limitWords = /limit reached|hit your|reached your|out of (?:extra usage|usage)|usage limit|spend limit|spending cap|credit|usage is paused|Approaching|You've used|now using|continue automatically|Continuing automatically|limit resets|\bresets\b/i;
  const seen = new Set();
  for (const m of text.matchAll(literal)) {
    const s = m[1] ?? m[2] ?? m[3] ?? '';
    if (!limitWords.test(s) || seen.has(s) || /[;{}]\s*(?:let|var|return|function)\b/.test(s)) continue;
    seen.add(s);
    console.log(`candidate ${listVersion}: ${Buffer.from(s, 'latin1').toString('utf8')}`);
  }
}
console.log(missing === 0 ? 'every template found in its release' : `${missing} piece(s) of evidence not found`);
process.exit(missing === 0 ? 0 : 1);
