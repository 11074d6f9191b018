import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MonitoringReply } from '@backflow/contracts';
import { figure, tick } from './format';

/** Drift of each input feature against the reference window, the chosen feature over time, and schema anomalies. */
export function DriftPanel({ data }: { data: MonitoringReply }) {
  const [chosen, setChosen] = useState<string | null>(null);
  const feature = data.drift.find((d) => d.feature === chosen) ?? data.drift.find((d) => d.drifted) ?? data.drift[0];
  const bars = data.drift.map((d) => ({ feature: d.feature, value: d.value ?? 0, threshold: d.threshold, drifted: d.drifted }));
  return (
    <section className="admin-section" aria-labelledby="drift-title" data-testid="drift-panel">
      <div className="admin-section__head">
        <h2 id="drift-title">Input drift</h2>
      </div>
      <p className="admin-section__lede">
        The last window against the reference window before it: Jensen-Shannon divergence for numbers, L-infinity distance for categories (TFDV&apos;s
        measures). A bar past its threshold has drifted, overall or within a slice.
      </p>
      {bars.length ? (
        <div className="ops-chart" role="img" aria-label="Drift per feature">
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
              <Tooltip formatter={(v) => figure(Number(v))} />
              <ReferenceLine x={bars[0]?.threshold} stroke="#c2661c" strokeDasharray="5 4" />
              <Bar dataKey="value" name="distance" isAnimationActive={false}>
                {bars.map((b) => (
                  <Cell key={b.feature} fill={b.drifted ? '#c2661c' : '#11807a'} />
                ))}
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        </div>
      ) : (
        <p className="admin-section__lede">No features seen yet.</p>
      )}
      {feature ? (
        <>
          <label className="admin-section__control">
            Feature{' '}
            <select value={feature.feature} onChange={(event) => setChosen(event.target.value)} data-testid="drift-feature">
              {data.drift.map((d) => (
                <option key={d.feature} value={d.feature}>
                  {d.feature}
                  {d.drifted ? ' (drifted)' : ''}
                </option>
              ))}
            </select>
          </label>
          <p className="admin-section__lede">
            {feature.feature} is compared with{' '}
            {feature.baseline === 'uploaded' ? 'the statistics uploaded for it (e.g. of the training data)' : 'the reference window'}.
          </p>
          {feature.series.length ? (
            <div className="ops-chart" role="img" aria-label={`Drift of ${feature.feature} over time`}>
              <ResponsiveContainer width="100%" height={180}>
                <LineChart data={feature.series.map((p) => ({ ...p, at: tick(p.at, data.bucket) }))} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
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
                  <Line
                    dataKey="value"
                    name={feature.metric === 'l_infinity' ? 'L-infinity' : 'Jensen-Shannon'}
                    stroke="#0c6b66"
                    dot={{ r: 2 }}
                    isAnimationActive={false}
                  />
                </LineChart>
              </ResponsiveContainer>
            </div>
          ) : null}
          {feature.slices.length ? (
            <table className="admin-table" data-testid="drift-slices">
              <thead>
                <tr>
                  <th scope="col">Slice</th>
                  <th scope="col">{feature.metric === 'l_infinity' ? 'L-infinity' : 'Jensen-Shannon'}</th>
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
      ) : null}
      <h3 className="ops-chart__title">Schema anomalies in the last {data.anomalies.examined.toLocaleString()} predictions</h3>
      {data.anomalies.features.length ? (
        <table className="admin-table" data-testid="anomalies-table">
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col">Missing</th>
              <th scope="col">Wrong type</th>
              <th scope="col">New category</th>
            </tr>
          </thead>
          <tbody>
            {data.anomalies.features.map((a) => (
              <tr key={a.feature}>
                <td>{a.feature}</td>
                <td>{a.missing}</td>
                <td>{a.wrongType}</td>
                <td>{a.newCategory}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="admin-section__lede">None: every prediction matches the schema.</p>
      )}
    </section>
  );
}
