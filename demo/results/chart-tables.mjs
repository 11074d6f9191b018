// Draws demo/results/*.svg from the curve and --compare tables in the README (the runs recorded there):
//   node demo/results/chart-tables.mjs
// A demo run writes the same charts of its own figures as demo-curve.svg and demo-compare.svg in its data directory.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareSvg, curveSvg } from '../charts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(path.join(here, '..', '..', 'README.md'), 'utf8');
const HELD_OUT = 1212;

/** The body rows of the first Markdown table whose header starts with `header`. */
function table(header) {
  const rows = [];
  for (const line of readme.slice(readme.indexOf(header)).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}
const share = (cell) => Number(cell.replace('%', '')) / 100;

const curve = table('| model | trained after').map(([version, , examples, accuracy, html, multipart, plain]) => ({
  version,
  examples: Number(examples),
  accuracy: share(accuracy),
  slices: { html: share(html), multipart: share(multipart), plain: share(plain) },
}));
writeFileSync(path.join(here, 'curve.svg'), curveSvg(curve, HELD_OUT));
const rounds = table('| round | labels (uncertainty)');
const uncertainty = rounds.map((r) => ({ labels: Number(r[1]), accuracy: share(r[2]) }));
const random = rounds.map((r) => ({ labels: Number(r[3]), accuracy: share(r[4]) }));
writeFileSync(path.join(here, 'compare.svg'), compareSvg({ uncertainty, random }, HELD_OUT));
console.log(`curve: ${curve.length} versions; compare: ${rounds.length} rounds`);
