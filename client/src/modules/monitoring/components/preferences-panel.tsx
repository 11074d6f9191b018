import { Bar, CartesianGrid, ComposedChart, ErrorBar, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { PreferenceReport } from '@backflow/contracts';
import { Badge } from '../../../ui/badge';
import { percent } from './format';

const VERDICT: Record<NonNullable<PreferenceReport['challenger']>['verdict'], { name: string; tone: 'amber' | 'neutral' | 'teal' }> = {
  better: { name: 'better than the champion', tone: 'teal' },
  worse: { name: 'worse than the champion', tone: 'amber' },
  undecided: { name: 'not yet told apart', tone: 'neutral' },
};

/** Each version's chance of beating the champion in one comparison, with its 95% interval (Bradley–Terry). */
function StrengthChart({ report }: { report: PreferenceReport }) {
  const points = report.versions.map((v) => ({
    version: v.modelVersion,
    value: v.winProbability.value,
    error: [v.winProbability.value - v.winProbability.low, v.winProbability.high - v.winProbability.value] as [number, number],
  }));
  const label = `chance of beating ${report.champion}: ${points.map((p) => `${p.version} ${percent(p.value, 0)}`).join(', ')}`;
  return (
    <div className="ops-chart" role="img" aria-label={label} data-testid="preference-chart">
      <ResponsiveContainer width="100%" height={Math.max(140, 48 * points.length + 40)}>
        <ComposedChart data={points} layout="vertical" margin={{ top: 8, right: 24, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="#e4ded3" horizontal={false} />
          <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
          <YAxis type="category" dataKey="version" tick={{ fontSize: 12 }} width={72} />
          <Tooltip formatter={(value) => percent(Number(value))} />
          <ReferenceLine x={0.5} stroke="#8a8275" strokeDasharray="4 4" label={{ value: 'as good', fontSize: 11, position: 'top' }} />
          <Bar dataKey="value" name={`chance of beating ${report.champion}`} fill="#0c6b66" barSize={18} isAnimationActive={false}>
            <ErrorBar dataKey="error" width={6} strokeWidth={1.5} stroke="#14312f" direction="x" />
          </Bar>
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/** The newest version's chance of beating the champion within each slice, from that slice's preferences alone. */
function SliceChart({ report, challenger }: { report: PreferenceReport; challenger: string }) {
  const points = report.slices.flatMap((s) =>
    s.winProbability
      ? [
          {
            slice: s.slice,
            value: s.winProbability.value,
            comparisons: s.comparisons,
            error: [s.winProbability.value - s.winProbability.low, s.winProbability.high - s.winProbability.value] as [number, number],
          },
        ]
      : [],
  );
  if (points.length === 0) return null;
  const label = `${challenger}'s chance of beating ${report.champion} by slice: ${points.map((p) => `${p.slice} ${percent(p.value, 0)}`).join(', ')}`;
  return (
    <>
      <h3 className="ops-chart__title">
        {challenger} against {report.champion}, slice by slice
      </h3>
      <div className="ops-chart" role="img" aria-label={label} data-testid="preference-slices-chart">
        <ResponsiveContainer width="100%" height={Math.max(120, 36 * points.length + 40)}>
          <ComposedChart data={points} layout="vertical" margin={{ top: 8, right: 24, bottom: 0, left: 8 }}>
            <CartesianGrid stroke="#e4ded3" horizontal={false} />
            <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
            <YAxis type="category" dataKey="slice" tick={{ fontSize: 12 }} width={160} />
            <Tooltip
              formatter={(value, _name, item) =>
                `${percent(Number(value))} (${(item.payload as (typeof points)[number]).comparisons.toLocaleString()} comparisons)`
              }
            />
            <ReferenceLine x={0.5} stroke="#8a8275" strokeDasharray="4 4" />
            <Bar dataKey="value" name={`chance of beating ${report.champion}`} fill="#79d3c9" barSize={14} isAnimationActive={false}>
              <ErrorBar dataKey="error" width={5} strokeWidth={1.5} stroke="#14312f" direction="x" />
            </Bar>
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </>
  );
}

/** Raters' preferences between two responses: the model versions ranked, and the newest one against the champion. */
export function PreferencesPanel({ report }: { report: PreferenceReport }) {
  const challenger = report.challenger;
  return (
    <section className="admin-section" aria-labelledby={`preferences-${report.question}`} data-testid="preferences-panel">
      <div className="admin-section__head">
        <h2 id={`preferences-${report.question}`}>Which version answers better: “{report.question}”</h2>
        {challenger ? (
          <Badge tone={VERDICT[challenger.verdict].tone} data-testid="challenger-verdict">
            {challenger.modelVersion}: {VERDICT[challenger.verdict].name}
          </Badge>
        ) : null}
      </div>
      <p className="admin-section__lede">
        {report.comparisons.toLocaleString()} preferences between responses of two versions in the last four weeks
        {report.bothBad ? `, ${report.bothBad.toLocaleString()} where both were bad` : ''}
        {report.sameVersion ? `, ${report.sameVersion.toLocaleString()} between samples of one version` : ''}. Bradley–Terry strengths as the chance of beating{' '}
        {report.champion ?? 'the champion'} in one comparison, with 95% intervals; ties count half.
      </p>
      {report.versions.length > 0 ? <StrengthChart report={report} /> : <p className="admin-section__lede">No comparison of two versions yet.</p>}
      {challenger ? (
        <p className="admin-section__lede" data-testid="challenger-record">
          {challenger.modelVersion} against {report.champion}, head to head: won {percent(challenger.winRate)} of {challenger.comparisons.toLocaleString()} (
          {percent(challenger.low)}–{percent(challenger.high)}).
        </p>
      ) : null}
      {challenger ? <SliceChart report={report} challenger={challenger.modelVersion} /> : null}
    </section>
  );
}
