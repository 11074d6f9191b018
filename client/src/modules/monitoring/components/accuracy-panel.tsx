import { useMemo, useState } from 'react';
import type { MonitoringReply } from '@backflow/contracts';
import { EstimateChart } from './estimate-chart';
import { SliceSelect } from './slice-select';
import { interval, percent, rowKey, sliceName, tick } from './format';

/** Accuracy per model version × slice: the chosen row over time with its interval, and every row against its baseline. */
export function AccuracyPanel({ data }: { data: MonitoringReply }) {
  const [chosen, setChosen] = useState<string>('*|*|*');
  const row = data.accuracy.find((r) => rowKey(r) === chosen) ?? data.accuracy[0];
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
        <SliceSelect rows={data.accuracy} value={row ? rowKey(row) : ''} onChange={setChosen} testId="accuracy-slice" />
      </div>
      <p className="admin-section__lede">
        From {data.labels.human.toLocaleString()} human labels in the range, each weighted by 1 / the chance routing had of picking its prediction, so the
        figures describe all traffic and not only what was uncertain. The shaded band is a 95% interval; a few heavily weighted labels make it wide.
        {data.feedbackAccuracy
          ? ` Feedback labels (${data.feedbackAccuracy.n.toLocaleString()}, not a designed sample) agree with the model ${percent(data.feedbackAccuracy.value)} of the time.`
          : ''}
      </p>
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
            <th scope="col">Baseline</th>
            <th scope="col">Labels (effective)</th>
            <th scope="col">Calibration error</th>
          </tr>
        </thead>
        <tbody>
          {data.accuracy.slice(0, 30).map((r) => {
            // marked only when the whole interval sits under the baseline: a fall the labels can vouch for
            const fell = r.accuracy && r.baseline && r.accuracy.high < r.baseline.value;
            return (
              <tr key={rowKey(r)}>
                <td>
                  {r.modelVersion === '*' ? 'every version' : r.modelVersion} · {sliceName(r.sliceKey, r.sliceValue)}
                </td>
                <td className={fell ? 'metric--down' : undefined}>{interval(r.accuracy)}</td>
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
