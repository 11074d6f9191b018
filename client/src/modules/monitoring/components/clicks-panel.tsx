import { useState } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ClickReport } from '@backflow/contracts';
import { Badge } from '../../../ui/badge';
import { percent, tick } from './format';

const DEGRADATION: Record<ClickReport['bySlice'][number]['degradation']['kind'], { name: string; tone: 'amber' | 'neutral' }> = {
  sudden: { name: 'sudden drop', tone: 'amber' },
  slow: { name: 'slow decline', tone: 'amber' },
  none: { name: 'steady', tone: 'neutral' },
};

const sliceLabel = (slice: string) => (slice === '*' ? 'all traffic' : slice);

/** Where users look: the examination probability per position with its band, beside the raw click-through (relative to position 1) it corrects. */
function ExaminationChart({ report }: { report: ClickReport }) {
  const first = report.byPosition[0]?.ctr ?? null;
  const raw = new Map(report.byPosition.map((p) => [p.position, first && p.ctr !== null ? p.ctr / first : null]));
  const points = (report.propensity?.positions ?? []).map((p) => ({
    position: p.position,
    value: p.value,
    band: [p.low, p.high] as [number, number],
    raw: raw.get(p.position) ?? null,
  }));
  const label = `examination probability by position relative to position 1: ${points.map((p) => `${p.position}: ${percent(p.value, 0)}`).join(', ')}`;
  return (
    <div className="ops-chart" role="img" aria-label={label} data-testid="examination-chart">
      <ResponsiveContainer width="100%" height={240}>
        <ComposedChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e4ded3" vertical={false} />
          <XAxis dataKey="position" tick={{ fontSize: 12 }} label={{ value: 'position shown', position: 'insideBottomRight', offset: -2, fontSize: 11 }} />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} width={44} />
          <Tooltip formatter={(value) => (Array.isArray(value) ? `${percent(Number(value[0]))}–${percent(Number(value[1]))}` : percent(Number(value)))} />
          <Legend />
          <Area dataKey="band" name="95% interval" stroke="none" fill="#d5efeb" isAnimationActive={false} />
          <Line dataKey="value" name="examined (estimated)" stroke="#0c6b66" strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} />
          <Line dataKey="raw" name="raw click-through" stroke="#c2661c" strokeDasharray="5 4" dot={{ r: 2 }} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/** A slice's click-through day by day, and where its drop began when it dropped. */
function SliceChart({ slice, bucket }: { slice: ClickReport['bySlice'][number]; bucket: ClickReport['bucket'] }) {
  const points = slice.series.map((b) => ({ at: tick(b.at, bucket), ctr: b.ctr }));
  const change = slice.degradation.changeAt ? tick(slice.degradation.changeAt, bucket) : undefined;
  return (
    <div
      className="ops-chart"
      role="img"
      aria-label={`click-through of ${sliceLabel(slice.slice)} by ${bucket}: ${DEGRADATION[slice.degradation.kind].name}`}
      data-testid="slice-ctr-chart"
    >
      <ResponsiveContainer width="100%" height={220}>
        <ComposedChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e4ded3" vertical={false} />
          <XAxis dataKey="at" tick={{ fontSize: 12 }} minTickGap={40} />
          <YAxis domain={[0, 'auto']} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} width={44} />
          <Tooltip formatter={(value) => percent(Number(value))} />
          <Line dataKey="ctr" name="click-through" stroke="#0c6b66" strokeWidth={2} dot={{ r: 2 }} connectNulls isAnimationActive={false} />
          {change ? (
            <ReferenceLine
              x={change}
              stroke="#c2661c"
              strokeDasharray="5 4"
              label={{ value: 'drop begins', fontSize: 11, fill: '#c2661c', position: 'insideTopRight' }}
            />
          ) : null}
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/** A recommender's clicks: where users look (position bias, learned from the traffic) and each slice's click-through with how it is going. */
export function ClicksPanel({ report }: { report: ClickReport }) {
  const [chosen, setChosen] = useState('*');
  const slice = report.bySlice.find((s) => s.slice === chosen) ?? report.bySlice[0];
  return (
    <section className="admin-section" aria-labelledby="clicks-title" data-testid="clicks-panel">
      <div className="admin-section__head">
        <h2 id="clicks-title">Clicks on “{report.question}”</h2>
      </div>
      <p className="admin-section__lede">
        {report.lists.toLocaleString()} lists, {report.impressions.toLocaleString()} results shown, {report.clicks.toLocaleString()} clicked (
        {percent(report.ctr)}) since {tick(report.from, 'day')}.{' '}
        {report.clickTypes.length
          ? `Clicks are events of type ${report.clickTypes.join(' or ')} (graded above the lowest by a feedback rule).`
          : 'No feedback rule grades an event yet: nothing counts as a click.'}
      </p>
      <h3 className="ops-chart__title">Where users look</h3>
      {report.propensity ? (
        <>
          <p className="admin-section__lede">
            How likely a result is to be seen at each position, against position 1, learned from these clicks (regression EM); raw click-through falls faster
            because the model puts what it thinks best first.
          </p>
          <ExaminationChart report={report} />
        </>
      ) : (
        <p className="admin-section__lede">No click yet to learn from.</p>
      )}
      <h3 className="ops-chart__title">Click-through by slice</h3>
      <div className="admin-section__head">
        <label className="admin-section__control">
          Slice{' '}
          <select value={slice?.slice ?? '*'} onChange={(event) => setChosen(event.target.value)} data-testid="clicks-slice">
            {report.bySlice.map((s) => (
              <option key={s.slice} value={s.slice}>
                {sliceLabel(s.slice)} ({DEGRADATION[s.degradation.kind].name})
              </option>
            ))}
          </select>
        </label>
        {slice ? (
          <Badge tone={DEGRADATION[slice.degradation.kind].tone} data-testid="clicks-degradation">
            {DEGRADATION[slice.degradation.kind].name}
          </Badge>
        ) : null}
      </div>
      {slice ? <SliceChart slice={slice} bucket={report.bucket} /> : null}
    </section>
  );
}
