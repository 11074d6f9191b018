import { Bar, BarChart, CartesianGrid, ErrorBar, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { FeedbackSignals } from '@backflow/contracts';
import { figure, percent } from './format';

// one colour per version, in the order the report lists them
const COLOURS = ['#0c6b66', '#c2661c', '#79d3c9', '#5b4b8a', '#8a8275', '#2f6fa3'];

/** What users did with each model version's predictions: each kind of event's share, with its interval, and how far their edits moved the text. */
export function FeedbackSignalsPanel({ report }: { report: FeedbackSignals }) {
  const versions = report.versions.slice(0, COLOURS.length);
  const rows = report.types.map((type) => {
    const row: Record<string, unknown> = { type };
    for (const v of versions) {
      const event = v.events.find((e) => e.type === type);
      if (!event) continue;
      row[v.modelVersion] = event.rate.value;
      row[`${v.modelVersion} error`] = [event.rate.value - event.rate.low, event.rate.high - event.rate.value];
      row[`${v.modelVersion} n`] = event.predictions;
    }
    return row;
  });
  const label = `Implicit feedback by model version: ${report.types
    .map((type) => `${type} ${versions.map((v) => `${v.modelVersion} ${percent(v.events.find((e) => e.type === type)?.rate.value ?? 0, 1)}`).join(' ')}`)
    .join(', ')}`;
  const edited = versions.filter((v) => v.edits);
  // the axis ends at the next tenth above the highest interval, ticked every tenth (every 2% under 10%)
  const highest = Math.max(0.01, ...versions.flatMap((v) => v.events.map((e) => e.rate.high)));
  const step = highest <= 0.1 ? 0.02 : 0.1;
  const top = Math.min(1, Math.ceil(highest / step - 1e-9) * step);
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => Math.round(i * step * 100) / 100);
  return (
    <section className="admin-section" aria-labelledby="feedback-signals-title" data-testid="feedback-signals-panel">
      <div className="admin-section__head">
        <h2 id="feedback-signals-title">What users did, by model version</h2>
      </div>
      <p className="admin-section__lede">
        The share of each version&apos;s predictions of the last {report.days} days that met each kind of feedback event (thumbs, regenerations, copies,
        edits…), with 95% intervals: every prediction counts, none is sampled.
      </p>
      <div className="ops-chart" role="img" aria-label={label} data-testid="feedback-signals-chart">
        <ResponsiveContainer width="100%" height={Math.max(160, (18 * versions.length + 16) * rows.length + 60)}>
          <BarChart data={rows} layout="vertical" margin={{ top: 8, right: 24, bottom: 0, left: 8 }}>
            <CartesianGrid stroke="#e4ded3" horizontal={false} />
            <XAxis type="number" domain={[0, top]} ticks={ticks} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
            <YAxis type="category" dataKey="type" tick={{ fontSize: 12 }} width={120} />
            <Tooltip
              formatter={(value, name, item) =>
                `${percent(Number(value), 1)} (${Number((item.payload as Record<string, unknown>)[`${String(name)} n`] ?? 0)} predictions)`
              }
            />
            <Legend />
            {versions.map((v, i) => (
              <Bar key={v.modelVersion} dataKey={v.modelVersion} name={v.modelVersion} fill={COLOURS[i]} barSize={14} isAnimationActive={false}>
                <ErrorBar dataKey={`${v.modelVersion} error`} width={4} strokeWidth={1.2} stroke="#14312f" direction="x" />
              </Bar>
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      {edited.length ? (
        <table className="admin-table" data-testid="feedback-edits">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Predictions</th>
              <th scope="col">Edits measured</th>
              <th scope="col">Mean edit distance (95%)</th>
            </tr>
          </thead>
          <tbody>
            {edited.map((v) => (
              <tr key={v.modelVersion}>
                <th scope="row">{v.modelVersion}</th>
                <td>{v.predictions.toLocaleString()}</td>
                <td>{v.edits!.events.toLocaleString()}</td>
                <td>
                  {figure(v.edits!.meanDistance, 3)} ({figure(v.edits!.low, 3)}–{figure(v.edits!.high, 3)})
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
