import { useMemo, useState } from 'react';
import type { KindMetrics, MonitoringReply, Question } from '@backflow/contracts';
import { EstimateChart } from './estimate-chart';
import { SliceSelect } from './slice-select';
import { KindFigures } from './kind-figures';
import { distinctRows, amount, METRIC_NAMES, percent, rowKey, sliceName, tick, versionName, type HeadlineMetric } from './format';

type MeasuredKind = KindMetrics['kind'];
type MetricEstimate = NonNullable<KindMetrics['headline']['value']>;

const HEADLINE_OF: Record<MeasuredKind, HeadlineMetric> = {
  multi_label: 'micro_f1',
  numeric: 'mae',
  rating: 'within_one_accuracy',
  spans: 'span_f1',
  text: 'exact_accuracy',
  ranking: 'ndcg',
};

const WHAT_IS_MEASURED: Record<MeasuredKind, string> = {
  multi_label: 'the labels the model scored 0.5 or more against the labels raters chose',
  numeric: 'the model’s number against the raters’ number',
  rating: 'the scale point nearest the model’s value against the raters’ point',
  spans: 'the model’s spans against the raters’ spans (same start, end and label)',
  text: 'the model’s text against the raters’ text, ends trimmed',
  ranking: 'the model’s order (by score) against the raters’ grades: NDCG, MRR and precision at the question’s k',
};

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The 95% interval of an estimate, ±1.96 standard errors, kept within what the figure can be. */
function bounds(metric: HeadlineMetric, e: MetricEstimate): [number, number] {
  const half = 1.96 * e.standardError;
  return metric === 'mae' ? [Math.max(0, e.value - half), e.value + half] : [Math.max(0, e.value - half), Math.min(1, e.value + half)];
}

/**
 * The model's quality on a routing question that is not a label one: its kind's headline figure
 * per model version × slice over time, against the slice's baseline, and the current window's
 * figures of the chosen slice.
 */
export function QuestionMetricsPanel({ data, question }: { data: MonitoringReply; question?: Question }) {
  const [chosen, setChosen] = useState<string>('*|*|*');
  const measured = distinctRows(data.accuracy).flatMap((r) => (r.metrics ? [{ ...r, metrics: r.metrics }] : []));
  const row = measured.find((r) => rowKey(r) === chosen) ?? measured[0];
  const kind: MeasuredKind = row?.metrics.kind ?? (question && question.kind !== 'label' ? question.kind : 'multi_label');
  const metric = row?.metrics.headline.metric ?? HEADLINE_OF[kind];
  const name = METRIC_NAMES[metric];
  const unit = question?.kind === 'numeric' ? question.unit : undefined;
  const show = (x: number | null | undefined) => (metric === 'mae' ? amount(x, unit) : percent(x));
  const withInterval = (e: MetricEstimate | null) => {
    if (!e) return '—';
    const [low, high] = bounds(metric, e);
    return metric === 'mae' ? `${amount(e.value, unit)} (${amount(low)}–${amount(high)})` : `${percent(e.value)} (${percent(low, 0)}–${percent(high, 0)})`;
  };
  const headline = row?.metrics.headline;
  const points = useMemo(
    () =>
      (headline?.series ?? []).map((p) => ({
        at: tick(p.at, data.bucket),
        value: p.value.value,
        band: bounds(metric, p.value),
        labels: p.value.n,
      })),
    [headline, data.bucket, metric],
  );
  const questionName = question ? `“${question.name}”` : 'the routing question';
  return (
    <section className="admin-section" aria-labelledby="question-metrics-title" data-testid="question-metrics-panel" data-kind={kind}>
      <div className="admin-section__head">
        <h2 id="question-metrics-title">Model {name} by slice</h2>
        <SliceSelect rows={measured} value={row ? rowKey(row) : ''} onChange={setChosen} testId="metrics-slice" />
      </div>
      <p className="admin-section__lede">
        From {data.labels.human.toLocaleString()} human labels of {questionName} in the range: {WHAT_IS_MEASURED[kind]}, each label weighted by 1 / the chance
        routing had of picking its prediction, so the figures describe all traffic. The line is the {name} ({headline?.better ?? 'higher'} is better), the
        shaded band its 95% interval, the dashed line the slice&apos;s baseline in the reference window.
      </p>
      {row && headline && points.length > 0 ? (
        <EstimateChart
          points={points}
          name={name}
          show={show}
          scale={metric === 'mae' ? 'amount' : 'share'}
          baseline={headline.baseline?.value}
          label={`${name} of ${sliceName(row.sliceKey, row.sliceValue)} over time`}
          testId="headline-chart"
        />
      ) : (
        <p className="admin-section__lede">No labelled predictions in this range yet.</p>
      )}
      {row ? (
        <>
          <h3 className="ops-chart__title" data-testid="current-title">
            The current window (since {when.format(new Date(data.window.from))}): {versionName(row.modelVersion)} · {sliceName(row.sliceKey, row.sliceValue)}
          </h3>
          <KindFigures metrics={row.metrics} unit={unit} />
        </>
      ) : null}
      <table className="admin-table" data-testid="metrics-table">
        <thead>
          <tr>
            <th scope="col">Version · slice</th>
            <th scope="col">{name} now (95%)</th>
            <th scope="col">Baseline</th>
            <th scope="col">Labels (effective)</th>
          </tr>
        </thead>
        <tbody>
          {measured.slice(0, 30).map((r) => {
            const h = r.metrics.headline;
            // marked only when the whole interval is worse than the baseline: a change the labels can vouch for
            const [low, high] = h.value ? bounds(metric, h.value) : [0, 0];
            const worse = h.value && h.baseline && (h.better === 'higher' ? high < h.baseline.value : low > h.baseline.value);
            return (
              <tr key={rowKey(r)} data-slice={rowKey(r)}>
                <td>
                  {r.modelVersion === '*' ? 'every version' : r.modelVersion} · {sliceName(r.sliceKey, r.sliceValue)}
                </td>
                <td className={worse ? 'metric--down' : undefined} data-testid="headline-now">
                  {withInterval(h.value)}
                </td>
                <td data-testid="headline-baseline">{h.baseline ? show(h.baseline.value) : '—'}</td>
                <td>{h.value ? `${h.value.n} (${Math.round(h.value.effectiveN)})` : '0'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
