// Prints the reliability figures of a run as a markdown table, one row per probe (its latest
// figure): `npx tsx test/reliability/figures-table.ts [figures.jsonl]`. The input is the
// reliability-results/figures.jsonl the probes write, or the `reliability figure: {…}` lines
// of a CI log.
import { readFileSync } from 'node:fs';
import { FIGURES_FILE, type Figure } from './figures.js';

const file = process.argv[2] ?? FIGURES_FILE;
const figures = new Map<string, Figure>();
const MARK = 'reliability figure: ';
for (const line of readFileSync(file, 'utf8').split('\n')) {
  // A figures.jsonl line is the JSON itself; in a log, it follows its mark.
  const json = line.startsWith('{') ? line : line.includes(MARK) ? line.slice(line.indexOf(MARK) + MARK.length) : '';
  if (json === '') continue;
  const figure = JSON.parse(json) as Figure;
  figures.set(`${figure.probe}|${figure.test}`, figure);
}
const cell = (text: string) => text.replace(/\|/g, '\\|');
const measured = (m: Figure['measured']) =>
  Object.entries(m ?? {})
    .slice(0, 6)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join('; ');
process.stdout.write('| probe | passes / runs | measured | test |\n| --- | --- | --- | --- |\n');
for (const f of figures.values()) {
  process.stdout.write(`| ${cell(f.probe)} | ${String(f.passes)}/${String(f.runs)} | ${cell(measured(f.measured))} | ${f.test} |\n`);
}
