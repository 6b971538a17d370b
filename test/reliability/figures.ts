import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the probes' figures go: one JSON line per probe, newest last (not committed). */
export const FIGURES_FILE = join(root, 'reliability-results', 'figures.jsonl');

export interface Figure {
  /** The probe, as docs/RELIABILITY.md names it. */
  readonly probe: string;
  /** The test file that proves it (relative to the repo). */
  readonly test: string;
  readonly runs: number;
  readonly passes: number;
  /** Measured values and the bounds they were held to, e.g. `{ rssGrowthMiB: 12, boundMiB: 64 }`. */
  readonly measured?: Record<string, number | string | boolean>;
}

/** Records a probe's figures for docs/RELIABILITY.md; also printed so CI's log carries them. */
export function recordFigure(figure: Figure): void {
  const line = JSON.stringify({ ...figure, at: new Date().toISOString() });
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  appendFileSync(FIGURES_FILE, `${line}\n`);
  process.stdout.write(`reliability figure: ${line}\n`);
}
