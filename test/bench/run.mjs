// npm run bench [name] [--scale]: every *.bench.mjs here, one table of figure / baseline / ratio / target, and results/latest.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// `npm run bench -- ingest` runs the benchmarks whose file names hold "ingest"; `-- --scale` runs the long scale run
const only = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs') && (!only || f.includes(only)))
  .sort();
const rows = [];
for (const file of files) {
  const { run } = await import(path.join(here, file));
  const log = (message) => process.stderr.write(`[${file}] ${message}\n`);
  for (const row of await run(log)) rows.push({ bench: file.replace('.bench.mjs', ''), ...row, ratio: row.value / row.baselineValue });
}

const format = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const table = [
  ['figure', 'value', 'baseline (same run)', 'baseline value', 'ratio', 'target', ''],
  // a row with lowerIsBetter (a latency) meets its target at or under it
  ...rows.map((r) => [
    r.figure,
    `${format(r.value)} ${r.unit}`,
    r.baseline,
    `${format(r.baselineValue)} ${r.unit}`,
    `${r.ratio.toFixed(2)}×`,
    // a row without a target is shown for what it tells
    r.target === undefined ? '—' : `${r.lowerIsBetter ? '≤' : '≥'} ${r.target}×`,
    r.target === undefined ? '' : (r.lowerIsBetter ? r.ratio <= r.target : r.ratio >= r.target) ? 'met' : 'MISSED',
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
const line = (row) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
console.log(`\n${machine()}\n`);
console.log(line(table[0]));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));

fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(
  path.join(here, 'results', 'latest.json'),
  `${JSON.stringify({ ranAt: new Date().toISOString(), machine: machine(), command: 'npm run bench', results: rows }, null, 2)}\n`,
);
