import { useMemo, useState } from 'react';
import type { MonitoringReply, SliceAccuracy } from '@backflow/contracts';
import { EstimateChart } from './estimate-chart';
import { SliceSelect } from './slice-select';
import { distinctRows, interval, MIN_EFFECTIVE_LABELS, percent, rowKey, sliceName, tick } from './format';

/** Why a labelled estimate is not a headline: its labels are the routed predictions, not a sample of the traffic. */
function unsupportedNote(support: SliceAccuracy['support']): string {
  const share = support.coverage === null ? '' : `; weighted, its labels stand for ${percent(support.coverage, 0)} of the traffic`;
  return `Not a headline: ${support.explored.toLocaleString()} of its labels were drawn at random${share}. It describes the predictions routing chose, not all traffic. Raise the exploration sample to measure the rest.`;
}

/** The chosen row's accuracy now: from labels when they stand for the traffic, and from the model's calibrated confidence beside it. */
function Headline({ row }: { row: SliceAccuracy }) {
  const cbpe = row.confidenceBased;
  const few = row.accuracy !== null && row.accuracy.effectiveN < MIN_EFFECTIVE_LABELS;
  const labelled = row.support.supported ? interval(row.accuracy) : 'not representative';
  return (
    <dl className="ops-tiles" data-testid="accuracy-headline">
      <div>
        <dt>From labels</dt>
        <dd data-testid="accuracy-labelled" className={row.support.supported && !few ? undefined : 'metric--unsupported'}>
          {labelled}
        </dd>
        {row.support.supported && few ? (
          <dd className="ops-tiles__note metric-warning" role="note" data-testid="accuracy-few">
            Too few labels to read as a figure: {Math.round(row.accuracy!.effectiveN)} effective (fewer than {MIN_EFFECTIVE_LABELS}), so the interval is wide.
          </dd>
        ) : null}
        <dd className="ops-tiles__note" data-testid="accuracy-support">
          {row.support.supported
            ? `${row.accuracy?.n.toLocaleString() ?? 0} labels, ${row.support.explored.toLocaleString()} drawn at random`
            : `${row.accuracy ? `${interval(row.accuracy)} of the routed predictions. ` : ''}${unsupportedNote(row.support)}`}
        </dd>
      </div>
      <div>
        <dt>From the model’s confidence (no labels)</dt>
        <dd data-testid="accuracy-cbpe">{cbpe ? `${percent(cbpe.value)} (${percent(cbpe.low, 0)}–${percent(cbpe.high, 0)})` : '—'}</dd>
        <dd className="ops-tiles__note">
          {cbpe
            ? `Over ${cbpe.predictions.toLocaleString()} predictions; ${percent(cbpe.calibratedShare, 0)} of them in confidence bins calibrated by human labels, the rest taken at the model’s word. Assumes the chance of being right at a given confidence is what the labels measured (per model version, the same in every slice): it cannot see a slice where the model goes wrong as confidently as before.`
            : 'Not for this kind of question, or no predictions in the window.'}
        </dd>
      </div>
    </dl>
  );
}

/** Accuracy per model version × slice: the chosen row over time with its interval, and every row against its baseline. */
export function AccuracyPanel({ data }: { data: MonitoringReply }) {
  const [chosen, setChosen] = useState<string>('*|*|*');
  const rows = useMemo(() => distinctRows(data.accuracy), [data.accuracy]);
  const row = rows.find((r) => rowKey(r) === chosen) ?? rows[0];
  const points = useMemo(
    () =>
      (row?.series ?? []).map((p) => ({
        at: tick(p.at, data.bucket),
        value: p.accuracy.value,
        band: [p.accuracy.low, p.accuracy.high] as [number, number],
        labels: p.accuracy.n,
      })),
    [row, data.bucket],
  );
  return (
    <section className="admin-section" aria-labelledby="accuracy-title" data-testid="accuracy-panel">
      <div className="admin-section__head">
        <h2 id="accuracy-title">Model accuracy by slice</h2>
        <SliceSelect rows={rows} value={row ? rowKey(row) : ''} onChange={setChosen} testId="accuracy-slice" />
      </div>
      <p className="admin-section__lede">
        From {data.labels.human.toLocaleString()} human labels in the range, each weighted by 1 / the chance routing had of picking its prediction, so the
        figures describe all traffic and not only what was uncertain. The shaded band is a 95% interval; a few heavily weighted labels make it wide.
        {data.feedbackAccuracy
          ? ` Feedback labels (${data.feedbackAccuracy.n.toLocaleString()}, not a designed sample) agree with the model ${percent(data.feedbackAccuracy.value)} of the time.`
          : ''}
      </p>
      {row ? <Headline row={row} /> : null}
      {row && points.length > 0 ? (
        <EstimateChart
          points={points}
          name="accuracy"
          show={(x) => percent(x)}
          scale="share"
          baseline={row.baseline?.value}
          label={`Accuracy of ${sliceName(row.sliceKey, row.sliceValue)} over time`}
        />
      ) : (
        <p className="admin-section__lede">No labelled predictions in this range yet.</p>
      )}
      <table className="admin-table" data-testid="accuracy-table">
        <thead>
          <tr>
            <th scope="col">Version · slice</th>
            <th scope="col">Accuracy now (95%)</th>
            <th scope="col">Without labels</th>
            <th scope="col">Baseline</th>
            <th scope="col">Labels (effective)</th>
            <th scope="col">Calibration error</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, 30).map((r) => {
            // marked only when the whole interval sits under the baseline: a fall the labels can vouch for
            const fell = r.accuracy && r.baseline && r.accuracy.high < r.baseline.value;
            const few = r.accuracy !== null && r.accuracy.effectiveN < MIN_EFFECTIVE_LABELS;
            return (
              <tr key={rowKey(r)}>
                <td>
                  {r.modelVersion === '*' ? 'every version' : r.modelVersion} · {sliceName(r.sliceKey, r.sliceValue)}
                </td>
                <td
                  className={r.support.supported && !few ? (fell ? 'metric--down' : undefined) : 'metric--unsupported'}
                  title={
                    r.support.supported
                      ? few
                        ? `Only ${Math.round(r.accuracy!.effectiveN)} effective labels: the interval is wide.`
                        : undefined
                      : unsupportedNote(r.support)
                  }
                >
                  {interval(r.accuracy)}
                  {r.support.supported ? (few ? ' · too few labels' : '') : ' · routed only'}
                </td>
                <td>{r.confidenceBased ? percent(r.confidenceBased.value) : '—'}</td>
                <td>{interval(r.baseline)}</td>
                <td>{r.accuracy ? `${r.accuracy.n} (${Math.round(r.accuracy.effectiveN)})` : '0'}</td>
                <td>{percent(r.calibrationError)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
