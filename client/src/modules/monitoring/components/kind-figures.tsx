import { Bar, BarChart, CartesianGrid, Cell, LabelList, Legend, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { KindMetrics } from '@backflow/contracts';
import { amount, axisTick, figure, percent } from './format';

type MultiLabelFigures = NonNullable<Extract<KindMetrics, { kind: 'multi_label' }>['current']>;

interface Share {
  name: string;
  value: number | null;
}

/** Shares side by side, each bar labelled with its figure: what a kind's current window looks like at a glance. */
function ShareBars({ shares, label }: { shares: Share[]; label: string }) {
  return (
    <div className="ops-chart" role="img" aria-label={`${label}: ${shares.map((s) => `${s.name} ${percent(s.value)}`).join(', ')}`}>
      <ResponsiveContainer width="100%" height={36 * shares.length + 36}>
        <BarChart data={shares.map((s) => ({ ...s, shown: percent(s.value) }))} layout="vertical" margin={{ top: 8, right: 56, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="#e4ded3" horizontal={false} />
          <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
          <YAxis type="category" dataKey="name" tick={{ fontSize: 12 }} width={150} />
          <Tooltip formatter={(v) => percent(Number(v))} />
          <Bar dataKey="value" name={label} fill="#11807a" barSize={18} isAnimationActive={false}>
            <LabelList dataKey="shown" position="right" style={{ fontSize: 12, fill: '#14232d' }} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

function Tile({ label, value, testId, note }: { label: string; value: string; testId: string; note?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
      {note ? <dd className="ops-tiles__note">{note}</dd> : null}
    </div>
  );
}

const labelsMeasured = (current: { n: number; effectiveN: number }) => `${current.n} labels (effective ${Math.round(current.effectiveN)})`;

/** Precision, recall and F1 of each label, grouped per label; a figure with nothing to measure (no such prediction, no such label) has no bar. */
function PerLabelChart({ perLabel }: { perLabel: MultiLabelFigures['perLabel'] }) {
  return (
    <div className="ops-chart" role="img" aria-label="Precision, recall and F1 per label" data-testid="per-label-chart">
      <ResponsiveContainer width="100%" height={Math.max(140, 54 * perLabel.length + 50)}>
        <BarChart data={perLabel} layout="vertical" margin={{ top: 8, right: 24, bottom: 0, left: 8 }} barGap={1}>
          <CartesianGrid stroke="#e4ded3" horizontal={false} />
          <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
          <YAxis type="category" dataKey="label" tick={{ fontSize: 12 }} width={120} />
          <Tooltip formatter={(v) => percent(Number(v))} />
          <Legend itemSorter={null} />
          <Bar dataKey="precision" name="precision" fill="#9fd3cc" isAnimationActive={false} />
          <Bar dataKey="recall" name="recall" fill="#f0a35e" isAnimationActive={false} />
          <Bar dataKey="f1" name="F1" fill="#0c6b66" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Labels inside the model's interval and outside it, against the 95% an honest 95% interval holds. */
function CoverageBar({ coverage }: { coverage: number }) {
  return (
    <div className="ops-chart" role="img" aria-label={`${percent(coverage)} of the labels inside the model’s interval`} data-testid="coverage-chart">
      <ResponsiveContainer width="100%" height={110}>
        <BarChart data={[{ name: 'labels', inside: coverage, outside: 1 - coverage }]} layout="vertical" margin={{ top: 20, right: 24, bottom: 0, left: 8 }}>
          <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
          <YAxis type="category" dataKey="name" hide />
          <Tooltip formatter={(v) => percent(Number(v))} />
          <Legend itemSorter={null} />
          <Bar dataKey="inside" name="inside the interval" stackId="coverage" fill="#11807a" barSize={22} isAnimationActive={false} />
          <Bar dataKey="outside" name="outside" stackId="coverage" fill="#f0a35e" barSize={22} isAnimationActive={false} />
          <ReferenceLine x={0.95} stroke="#10222e" strokeDasharray="4 3" label={{ value: '95%', fontSize: 11, fill: '#10222e', position: 'top' }} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** MAE against RMSE, in the question's unit: RMSE well above MAE means a few large misses rather than many small ones. */
function ErrorBars({ mae, rmse, unit }: { mae: number; rmse: number; unit?: string }) {
  const bars = [
    { name: 'MAE', value: mae },
    { name: 'RMSE', value: rmse },
  ];
  return (
    <div className="ops-chart" role="img" aria-label={`MAE ${amount(mae, unit)}, RMSE ${amount(rmse, unit)}`} data-testid="error-chart">
      <ResponsiveContainer width="100%" height={110}>
        <BarChart data={bars.map((b) => ({ ...b, shown: amount(b.value, unit) }))} layout="vertical" margin={{ top: 8, right: 72, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="#e4ded3" horizontal={false} />
          <XAxis type="number" domain={[0, 'auto']} tickFormatter={axisTick} tick={{ fontSize: 12 }} />
          <YAxis type="category" dataKey="name" tick={{ fontSize: 12 }} width={56} />
          <Tooltip formatter={(v) => amount(Number(v), unit)} />
          <Bar dataKey="value" name="error" barSize={18} isAnimationActive={false}>
            {bars.map((b) => (
              <Cell key={b.name} fill={b.name === 'MAE' ? '#0c6b66' : '#79d3c9'} />
            ))}
            <LabelList dataKey="shown" position="right" style={{ fontSize: 12, fill: '#14232d' }} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** The current window's figures of one slice, drawn the way its kind reads best. */
export function KindFigures({ metrics, unit }: { metrics: KindMetrics; unit?: string }) {
  const nothing = <p className="admin-section__lede">No labels in the current window for this slice.</p>;
  switch (metrics.kind) {
    case 'multi_label': {
      const c = metrics.current;
      if (!c) return nothing;
      return (
        <div className="kind-figures" data-testid="kind-figures">
          <dl className="ops-tiles">
            <Tile
              label="Micro F1"
              value={percent(c.micro.f1)}
              testId="figure-micro-f1"
              note={`precision ${percent(c.micro.precision)} · recall ${percent(c.micro.recall)}`}
            />
            <Tile label="Macro F1" value={percent(c.macroF1)} testId="figure-macro-f1" note="the mean of the labels’ F1" />
            <Tile label="Hamming loss" value={percent(c.hammingLoss)} testId="figure-hamming-loss" note="labels wrong, per item" />
            <Tile label="Whole set right" value={percent(c.subsetAccuracy)} testId="figure-subset-accuracy" note={labelsMeasured(c)} />
          </dl>
          <PerLabelChart perLabel={c.perLabel} />
          <table className="admin-table figure-table" data-testid="per-label-table">
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Precision</th>
                <th scope="col">Recall</th>
                <th scope="col">F1</th>
                <th scope="col">Support</th>
              </tr>
            </thead>
            <tbody>
              {c.perLabel.map((l) => (
                <tr key={l.label} data-label={l.label}>
                  <th scope="row">{l.label}</th>
                  <td>{percent(l.precision)}</td>
                  <td>{percent(l.recall)}</td>
                  <td>{percent(l.f1)}</td>
                  <td>{figure(l.support, 1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    case 'numeric': {
      const c = metrics.current;
      if (!c) return nothing;
      return (
        <div className="kind-figures" data-testid="kind-figures">
          <dl className="ops-tiles">
            <Tile label="MAE" value={amount(c.mae, unit)} testId="figure-mae" note="mean absolute error" />
            <Tile label="RMSE" value={amount(c.rmse, unit)} testId="figure-rmse" note={labelsMeasured(c)} />
            <Tile
              label="Interval coverage"
              value={percent(c.coverage)}
              testId="figure-coverage"
              note={c.coverage === null ? 'the model sent no interval' : `of the ${c.withInterval} labels whose prediction had one`}
            />
          </dl>
          <div className="figure-charts">
            <ErrorBars mae={c.mae} rmse={c.rmse} unit={unit} />
            {c.coverage !== null ? <CoverageBar coverage={c.coverage} /> : null}
          </div>
        </div>
      );
    }
    case 'rating': {
      const c = metrics.current;
      if (!c) return nothing;
      return (
        <div className="kind-figures" data-testid="kind-figures">
          <dl className="ops-tiles">
            <Tile label="Exact point" value={percent(c.exactAccuracy)} testId="figure-exact" note={labelsMeasured(c)} />
            <Tile label="Within one point" value={percent(c.withinOneAccuracy)} testId="figure-within-one" />
            <Tile label="Spearman ρ" value={figure(c.spearman, 2)} testId="figure-spearman" note="the model’s value and the label rank alike at 1" />
          </dl>
          <ShareBars
            label="Rating accuracy"
            shares={[
              { name: 'exact point', value: c.exactAccuracy },
              { name: 'within one point', value: c.withinOneAccuracy },
            ]}
          />
        </div>
      );
    }
    case 'spans': {
      const c = metrics.current;
      if (!c) return nothing;
      return (
        <div className="kind-figures" data-testid="kind-figures">
          <dl className="ops-tiles">
            <Tile label="Span precision" value={percent(c.precision)} testId="figure-precision" note={labelsMeasured(c)} />
            <Tile label="Span recall" value={percent(c.recall)} testId="figure-recall" />
            <Tile label="Span F1" value={percent(c.f1)} testId="figure-f1" note="start, end and label all exact" />
          </dl>
          <ShareBars
            label="Spans"
            shares={[
              { name: 'precision', value: c.precision },
              { name: 'recall', value: c.recall },
              { name: 'F1', value: c.f1 },
            ]}
          />
        </div>
      );
    }
    case 'ranking': {
      const c = metrics.current;
      if (!c) return nothing;
      return (
        <div className="kind-figures" data-testid="kind-figures">
          <dl className="ops-tiles">
            <Tile label={`NDCG@${c.k}`} value={percent(c.ndcg)} testId="figure-ndcg" note={labelsMeasured(c)} />
            <Tile label="MRR" value={percent(c.mrr)} testId="figure-mrr" note="the first relevant item’s reciprocal rank" />
            <Tile
              label={`Precision@${c.k}`}
              value={percent(c.precisionAtK)}
              testId="figure-precision-at-k"
              note={`${c.withoutRelevant} lists with nothing relevant`}
            />
          </dl>
          <ShareBars
            label="Ranking"
            shares={[
              { name: `NDCG@${c.k}`, value: c.ndcg },
              { name: 'MRR', value: c.mrr },
              { name: `precision@${c.k}`, value: c.precisionAtK },
            ]}
          />
        </div>
      );
    }
    case 'text': {
      const c = metrics.current;
      if (!c) return nothing;
      return (
        <div className="kind-figures" data-testid="kind-figures">
          <dl className="ops-tiles">
            <Tile label="Exact match" value={percent(c.exactAccuracy)} testId="figure-exact" note={labelsMeasured(c)} />
            <Tile
              label="Mean edit distance"
              value={figure(c.meanEditDistance, 3)}
              testId="figure-edit-distance"
              note="0: the model’s text kept; 1: nothing kept"
            />
          </dl>
          <ShareBars
            label="Text"
            shares={[
              { name: 'the model’s text kept', value: c.exactAccuracy },
              { name: 'of the text rewritten (mean)', value: c.meanEditDistance },
            ]}
          />
        </div>
      );
    }
  }
}
