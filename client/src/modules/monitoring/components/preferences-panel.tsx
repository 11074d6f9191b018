import { Bar, CartesianGrid, ComposedChart, ErrorBar, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { PreferenceReport } from '@backflow/contracts';
import { Badge } from '../../../ui/badge';
import { percent } from './format';

const VERDICT: Record<NonNullable<PreferenceReport['challenger']>['verdict'], { name: string; tone: 'amber' | 'neutral' | 'teal' }> = {
  better: { name: 'better than the champion', tone: 'teal' },
  worse: { name: 'worse than the champion', tone: 'amber' },
  undecided: { name: 'not yet told apart', tone: 'neutral' },
};

interface WinPoint {
  name: string;
  value: number;
  error: [number, number];
  /** comparisons behind the figure, when the tooltip tells them */
  comparisons?: number;
}

/** Chances of beating the champion as horizontal bars with their 95% intervals, ½ marked. */
function WinChart({
  points,
  champion,
  label,
  testId,
  look,
}: {
  points: WinPoint[];
  champion: string | null;
  label: string;
  testId: string;
  look: { rowHeight: number; minHeight: number; nameWidth: number; barSize: number; fill: string; marker?: string };
}) {
  return (
    <div className="ops-chart" role="img" aria-label={label} data-testid={testId}>
      <ResponsiveContainer width="100%" height={Math.max(look.minHeight, look.rowHeight * points.length + 40)}>
        <ComposedChart data={points} layout="vertical" margin={{ top: 8, right: 24, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="#e4ded3" horizontal={false} />
          <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
          <YAxis type="category" dataKey="name" tick={{ fontSize: 12 }} width={look.nameWidth} />
          <Tooltip
            formatter={(value, _name, item) => {
              const comparisons = (item.payload as WinPoint).comparisons;
              return comparisons === undefined ? percent(Number(value)) : `${percent(Number(value))} (${comparisons.toLocaleString()} comparisons)`;
            }}
          />
          <ReferenceLine
            x={0.5}
            stroke="#8a8275"
            strokeDasharray="4 4"
            label={look.marker ? { value: look.marker, fontSize: 11, position: 'top' } : undefined}
          />
          <Bar dataKey="value" name={`chance of beating ${champion}`} fill={look.fill} barSize={look.barSize} isAnimationActive={false}>
            <ErrorBar dataKey="error" width={Math.round(look.barSize / 3)} strokeWidth={1.5} stroke="#14312f" direction="x" />
          </Bar>
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

const pointOf = (name: string, p: { value: number; low: number; high: number }, comparisons?: number): WinPoint => ({
  name,
  value: p.value,
  error: [p.value - p.low, p.high - p.value],
  ...(comparisons === undefined ? {} : { comparisons }),
});

/** Each version's chance of beating the champion in one comparison, with its 95% interval (Bradley–Terry). */
function StrengthChart({ report }: { report: PreferenceReport }) {
  const points = report.versions.map((v) => pointOf(v.modelVersion, v.winProbability));
  const label = `chance of beating ${report.champion}: ${points.map((p) => `${p.name} ${percent(p.value, 0)}`).join(', ')}`;
  return (
    <WinChart
      points={points}
      champion={report.champion}
      label={label}
      testId="preference-chart"
      look={{ rowHeight: 48, minHeight: 140, nameWidth: 72, barSize: 18, fill: '#0c6b66', marker: 'as good' }}
    />
  );
}

/** The newest version's chance of beating the champion within each slice, from that slice's preferences alone. */
function SliceChart({ report, challenger }: { report: PreferenceReport; challenger: string }) {
  const points = report.slices.flatMap((s) => (s.winProbability ? [pointOf(s.slice, s.winProbability, s.comparisons)] : []));
  if (points.length === 0) return null;
  const label = `${challenger}'s chance of beating ${report.champion} by slice: ${points.map((p) => `${p.name} ${percent(p.value, 0)}`).join(', ')}`;
  return (
    <>
      <h3 className="ops-chart__title">
        {challenger} against {report.champion}, slice by slice
      </h3>
      <WinChart
        points={points}
        champion={report.champion}
        label={label}
        testId="preference-slices-chart"
        look={{ rowHeight: 36, minHeight: 120, nameWidth: 160, barSize: 14, fill: '#79d3c9' }}
      />
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
