import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { FeatureDrift } from '@backflow/contracts';
import { figure, tick } from './format';

/** A feature's distance from its reference (drift or distribution skew): what the chart and the tables read. */
export type FeatureDistance = Pick<FeatureDrift, 'feature' | 'metric' | 'threshold' | 'value' | 'comparator' | 'series' | 'slices'> & { past: boolean };

const METRIC = { l_infinity: 'L-infinity', jensen_shannon: 'Jensen-Shannon' } as const;

/**
 * Per feature its distance as a bar (past its threshold in amber), then the chosen feature over
 * time against its threshold and within each slice. Each feature has its own threshold (a schema's
 * comparator sets it per feature): the tooltip names it, and one line marks it when all share one.
 */
export function DistanceView({ rows, bucket, name, testId }: { rows: FeatureDistance[]; bucket: 'hour' | 'day'; name: string; testId: string }) {
  const [chosen, setChosen] = useState<string | null>(null);
  const feature = rows.find((d) => d.feature === chosen) ?? rows.find((d) => d.past) ?? rows[0];
  if (!feature) return <p className="admin-section__lede">No features seen yet.</p>;
  const bars = rows.map((d) => ({ feature: d.feature, value: d.value ?? 0, threshold: d.threshold, past: d.past, metric: METRIC[d.metric] }));
  const shared = bars.every((b) => b.threshold === bars[0].threshold) ? bars[0].threshold : undefined;
  return (
    <>
      <div className="ops-chart" role="img" aria-label={`${name} per feature`}>
        <ResponsiveContainer width="100%" height={Math.max(120, 28 * bars.length + 40)}>
          <BarChart
            data={bars}
            layout="vertical"
            margin={{ top: 8, right: 24, bottom: 0, left: 8 }}
            onClick={(state) => state?.activeLabel && setChosen(String(state.activeLabel))}
          >
            <CartesianGrid stroke="#e4ded3" horizontal={false} />
            <XAxis type="number" domain={[0, 1]} tick={{ fontSize: 12 }} />
            <YAxis type="category" dataKey="feature" tick={{ fontSize: 12 }} width={110} />
            <Tooltip
              formatter={(v, _name, item) => {
                const b = item.payload as (typeof bars)[number];
                return [`${figure(Number(v))} (threshold ${figure(b.threshold)})`, b.metric];
              }}
            />
            {shared !== undefined ? <ReferenceLine x={shared} stroke="#c2661c" strokeDasharray="5 4" /> : null}
            <Bar dataKey="value" name="distance" isAnimationActive={false}>
              {bars.map((b) => (
                <Cell key={b.feature} fill={b.past ? '#c2661c' : '#11807a'} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <label className="admin-section__control">
        Feature{' '}
        <select value={feature.feature} onChange={(event) => setChosen(event.target.value)} data-testid={`${testId}-feature`}>
          {rows.map((d) => (
            <option key={d.feature} value={d.feature}>
              {d.feature}
              {d.past ? ` (past ${figure(d.threshold)})` : ''}
            </option>
          ))}
        </select>
      </label>
      <p className="admin-section__lede">
        {METRIC[feature.metric]} {feature.value === null ? 'not measured yet (too few predictions on a side)' : figure(feature.value)}, threshold{' '}
        {figure(feature.threshold)}{' '}
        {feature.comparator === 'schema'
          ? "from the uploaded schema's comparator, measured on each side's statistics as TFDV does"
          : "from the project's monitoring settings"}
        .
      </p>
      {feature.series.length ? (
        <div className="ops-chart" role="img" aria-label={`${name} of ${feature.feature} over time`}>
          <ResponsiveContainer width="100%" height={180}>
            <LineChart data={feature.series.map((p) => ({ ...p, at: tick(p.at, bucket) }))} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#e4ded3" vertical={false} />
              <XAxis dataKey="at" tick={{ fontSize: 12 }} minTickGap={40} />
              <YAxis domain={[0, 'auto']} tick={{ fontSize: 12 }} width={44} />
              <Tooltip formatter={(v) => figure(Number(v))} />
              <ReferenceLine
                y={feature.threshold}
                stroke="#c2661c"
                strokeDasharray="5 4"
                label={{ value: 'threshold', fontSize: 11, fill: '#c2661c', position: 'insideTopRight' }}
              />
              <Line dataKey="value" name={METRIC[feature.metric]} stroke="#0c6b66" dot={{ r: 2 }} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      ) : null}
      {feature.slices.length ? (
        <table className="admin-table" data-testid={`${testId}-slices`}>
          <thead>
            <tr>
              <th scope="col">Slice</th>
              <th scope="col">{METRIC[feature.metric]}</th>
              <th scope="col">Predictions</th>
            </tr>
          </thead>
          <tbody>
            {feature.slices.slice(0, 10).map((s) => (
              <tr key={s.slice}>
                <td>{s.slice}</td>
                <td className={s.value > feature.threshold ? 'metric--down' : undefined}>{figure(s.value)}</td>
                <td>{s.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
