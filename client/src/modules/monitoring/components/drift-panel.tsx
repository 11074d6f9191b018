import type { MonitoringReply } from '@backflow/contracts';
import { DistanceView } from './distance-view';

/** Drift of each input feature against the reference window, the chosen feature over time, and schema anomalies. */
export function DriftPanel({ data }: { data: MonitoringReply }) {
  const rows = data.drift.map((d) => ({ ...d, past: d.drifted }));
  return (
    <section className="admin-section" aria-labelledby="drift-title" data-testid="drift-panel">
      <div className="admin-section__head">
        <h2 id="drift-title">Input drift</h2>
      </div>
      <p className="admin-section__lede">
        The last window against the reference window before it (TFDV&apos;s drift: one span against the one before). A feature with a drift_comparator in the
        uploaded schema is judged by it; the others by Jensen-Shannon divergence for numbers and L-infinity distance for categories. A bar past its threshold
        has drifted, overall or within a slice.
      </p>
      <DistanceView rows={rows} bucket={data.bucket} name="Drift" testId="drift" />
      <h3 className="ops-chart__title">Schema anomalies in the last {data.anomalies.examined.toLocaleString()} predictions</h3>
      {data.anomalies.features.length ? (
        <table className="admin-table" data-testid="anomalies-table">
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col" title="TFDV: FEATURE_TYPE_LOW_FRACTION_PRESENT">
                Missing
              </th>
              <th scope="col" title="TFDV: UNEXPECTED_DATA_TYPE">
                Wrong type
              </th>
              <th scope="col" title="TFDV: ENUM_TYPE_UNEXPECTED_STRING_VALUES">
                New category
              </th>
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
        <p className="admin-section__lede">
          {data.anomalies.examined === 0
            ? 'Nothing to check yet: no prediction arrived in the current window.'
            : `None: every prediction matches the schema (${data.anomalies.examined.toLocaleString()} checked).`}
        </p>
      )}
    </section>
  );
}
