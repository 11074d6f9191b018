// Line charts as standalone SVG files: the demo's accuracy curve and the --compare result,
// written beside the server log so they can be opened in a browser or put in a README.

const WIDTH = 720;
const HEIGHT = 360;
const MARGIN = { top: 48, right: 150, bottom: 52, left: 64 };
const PALETTE = ['#1f6feb', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#495057'];

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick values covering [min, max]: about `count` of them, at 1, 2 or 5 × a power of ten. */
function ticks(min, max, count) {
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const values = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) values.push(Number(v.toFixed(10)));
  return values;
}

/**
 * series: [{ name, points: [{ x, y }], emphasis?: boolean }]; y is a share in [0, 1], drawn as a
 * percentage. The emphasised series are drawn thick with their points marked; the rest thin.
 */
export function lineChartSvg({ title, xLabel, yLabel = 'accuracy on held-out emails', series }) {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const yMin = Math.max(0, Math.floor((Math.min(...all.map((p) => p.y)) - 0.02) * 20) / 20);
  const yMax = Math.min(1, Math.ceil((Math.max(...all.map((p) => p.y)) + 0.01) * 20) / 20);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x) => MARGIN.left + (x / xMax) * plotW;
  const sy = (y) => MARGIN.top + (1 - (y - yMin) / (yMax - yMin || 1)) * plotH;

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="15" font-weight="600" fill="#212529">${escape(title)}</text>`,
  ];
  for (const y of ticks(yMin, yMax, 5)) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${sy(y)}" y2="${sy(y)}" stroke="#e9ecef"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${sy(y) + 4}" text-anchor="end" fill="#495057">${Math.round(y * 100)}%</text>`);
  }
  for (const x of ticks(0, xMax, 6)) {
    parts.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 5}" stroke="#868e96"/>`);
    parts.push(`<text x="${sx(x)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" fill="#495057">${x.toLocaleString('en-US')}</text>`);
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#868e96"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle" fill="#212529">${escape(xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#212529">${escape(yLabel)}</text>`);

  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const path = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${color}" stroke-width="${s.emphasis ? 2.5 : 1.2}" stroke-opacity="${s.emphasis ? 1 : 0.7}"${s.emphasis ? '' : ' stroke-dasharray="4 3"'}/>`,
    );
    if (s.emphasis)
      for (const p of s.points)
        parts.push(
          `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"><title>${escape(`${s.name}: ${(p.y * 100).toFixed(1)}% at ${p.x}`)}</title></circle>`,
        );
    const last = s.points.at(-1);
    parts.push(
      `<line x1="${WIDTH - MARGIN.right + 14}" x2="${WIDTH - MARGIN.right + 32}" y1="${MARGIN.top + 8 + i * 20}" y2="${MARGIN.top + 8 + i * 20}" stroke="${color}" stroke-width="${s.emphasis ? 2.5 : 1.2}"${s.emphasis ? '' : ' stroke-dasharray="4 3"'}/>`,
    );
    parts.push(
      `<text x="${WIDTH - MARGIN.right + 38}" y="${MARGIN.top + 12 + i * 20}" fill="#212529">${escape(s.name)}${last ? ` ${(last.y * 100).toFixed(1)}%` : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** The loop's curve: accuracy of each model version by the emails it was trained on, overall and per slice. */
export function curveSvg(curve, heldOut) {
  const slices = [...new Set(curve.flatMap((c) => Object.keys(c.slices)))].sort();
  return lineChartSvg({
    title: `Each model version on ${heldOut.toLocaleString('en-US')} held-out emails`,
    xLabel: 'training emails (the seed set, then every span so far)',
    series: [
      { name: 'all', emphasis: true, points: curve.map((c) => ({ x: c.examples, y: c.accuracy })) },
      ...slices.map((slice) => ({
        name: slice,
        points: curve.filter((c) => c.slices[slice] !== undefined).map((c) => ({ x: c.examples, y: c.slices[slice] })),
      })),
    ],
  });
}

/** --compare: accuracy per labels spent, one line per routing policy. */
export function compareSvg(results, heldOut) {
  return lineChartSvg({
    yLabel: `accuracy on ${heldOut.toLocaleString('en-US')} held-out emails`,
    title: `Uncertainty against random routing at the same label budget`,
    xLabel: 'labels spent',
    series: Object.entries(results).map(([name, points]) => ({ name, emphasis: true, points: points.map((p) => ({ x: p.labels, y: p.accuracy })) })),
  });
}
