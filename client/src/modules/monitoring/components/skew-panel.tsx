import type { MonitoringReply } from '@backflow/contracts';
import { Badge } from '../../../ui/badge';
import { DistanceView } from './distance-view';
import { percent } from './format';

const COMPARATOR_TYPES = new Set(['COMPARATOR_CONTROL_DATA_MISSING', 'COMPARATOR_L_INFTY_HIGH', 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH']);

const SCHEMA_SOURCE = {
  tfdv: 'the uploaded schema.pbtxt',
  json: 'the schema uploaded as JSON',
  inferred: 'the schema inferred from traffic (upload the training schema.pbtxt to check serving against it)',
} as const;

/**
 * Training–serving skew, the three kinds TFDV names: schema skew (serving breaks the training
 * schema), distribution skew (serving's statistics against training's), feature skew (the same
 * example's features differ between training data and serving); and TFDV's artifacts of the window.
 */
export function SkewPanel({ data, slug }: { data: MonitoringReply; slug: string }) {
  const { skew } = data;
  const base = `/api/v1/projects/${encodeURIComponent(slug)}/monitoring`;
  const tfdv = data.anomalies.tfdv;
  const feature = skew.feature;
  return (
    <section className="admin-section" aria-labelledby="skew-title" data-testid="skew-panel">
      <div className="admin-section__head">
        <h2 id="skew-title">Training–serving skew</h2>
        <p className="admin-section__lede">
          TFDV&apos;s artifacts of the last window:{' '}
          <a href={`${base}/statistics?format=binary`} download>
            statistics (FeatureStats.pb)
          </a>
          ,{' '}
          <a href={`${base}/anomalies?format=text`} target="_blank" rel="noreferrer">
            anomalies (text)
          </a>
          ,{' '}
          <a href={`${base}/schema?format=text`} target="_blank" rel="noreferrer">
            schema.pbtxt
          </a>
        </p>
      </div>

      <h3 className="ops-chart__title">Schema skew: the window&apos;s statistics validated by TFDV</h3>
      <p className="admin-section__lede">
        Against {skew.schema ? SCHEMA_SOURCE[skew.schema] : 'no schema yet'}
        {skew.environment ? `, in its ${skew.environment} environment` : ''}. Comparator findings are drift and distribution skew, charted below.
      </p>
      {tfdv.length ? (
        <table className="admin-table" data-testid="tfdv-anomalies">
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col">TFDV anomaly</th>
              <th scope="col">What TFDV says</th>
              <th scope="col">Slices with it</th>
            </tr>
          </thead>
          <tbody>
            {tfdv.map((a) => (
              <tr key={a.feature}>
                <td>{a.feature}</td>
                <td>
                  {a.types.map((t) => (
                    <Badge key={t} tone={COMPARATOR_TYPES.has(t) ? 'ink' : 'amber'}>
                      {t}
                    </Badge>
                  ))}
                </td>
                <td>{a.description}</td>
                <td>{a.slices.length ? a.slices.slice(0, 8).join(', ') + (a.slices.length > 8 ? ` and ${a.slices.length - 8} more` : '') : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="admin-section__lede">None: the window&apos;s statistics pass every check of the schema.</p>
      )}

      <h3 className="ops-chart__title">Distribution skew: the window against the training statistics</h3>
      {skew.distribution.length ? (
        <DistanceView rows={skew.distribution.map((d) => ({ ...d, past: d.skewed }))} bucket={data.bucket} name="Distribution skew" testId="skew" />
      ) : (
        <p className="admin-section__lede">
          No training statistics: upload StatisticsGen&apos;s FeatureStats.pb of the training data (PUT …/monitoring/baseline) to measure serving against it, by
          the schema&apos;s skew_comparator where it has one.
        </p>
      )}

      <h3 className="ops-chart__title">Feature skew: the same examples in training data and serving</h3>
      {feature ? (
        <>
          <p className="admin-section__lede" data-testid="feature-skew-summary">
            {feature.pairs.toLocaleString()} of {feature.trainingExamples.toLocaleString()} training examples found in serving traffic by{' '}
            <code>{feature.identifier}</code> (measured {new Date(feature.measuredAt).toLocaleString()}
            {feature.withoutIdentifier ? `; ${feature.withoutIdentifier} without an identifier` : ''}
            {feature.duplicateIdentifiers ? `; ${feature.duplicateIdentifiers} identifiers held twice, left out` : ''}).
          </p>
          <table className="admin-table" data-testid="feature-skew">
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Differ</th>
                <th scope="col">Match</th>
                <th scope="col">Mismatch</th>
                <th scope="col">Training only</th>
                <th scope="col">Serving only</th>
                <th scope="col">Worst slice</th>
              </tr>
            </thead>
            <tbody>
              {feature.features.slice(0, 30).map((f) => (
                <tr key={f.feature}>
                  <td>{f.feature}</td>
                  <td className={f.diffCount ? 'metric--down' : undefined}>{percent(f.diffRate)}</td>
                  <td>{f.matchCount}</td>
                  <td>{f.mismatchCount}</td>
                  <td>{f.trainingOnly}</td>
                  <td>{f.servingOnly}</td>
                  <td>{f.slices[0]?.diffCount ? `${f.slices[0].slice}: ${percent(f.slices[0].diffRate)} of ${f.slices[0].pairs}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {feature.samples.length ? (
            <details className="admin-section__details">
              <summary>{feature.samples.length} skewed examples</summary>
              <table className="admin-table" data-testid="feature-skew-samples">
                <thead>
                  <tr>
                    <th scope="col">Prediction</th>
                    <th scope="col">Differs</th>
                    <th scope="col">Training</th>
                    <th scope="col">Serving</th>
                  </tr>
                </thead>
                <tbody>
                  {feature.samples.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <code>{s.id}</code>
                      </td>
                      <td>
                        {[...s.mismatched, ...s.trainingOnly.map((n) => `${n} (training only)`), ...s.servingOnly.map((n) => `${n} (serving only)`)].join(', ')}
                      </td>
                      <td>
                        <code>{JSON.stringify(s.training)}</code>
                      </td>
                      <td>
                        <code>{JSON.stringify(s.serving)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          ) : null}
        </>
      ) : (
        <p className="admin-section__lede">
          Not measured: upload training examples that carry their prediction&apos;s id (PUT …/monitoring/training-examples, a TFRecord as ExampleGen wrote it)
          to compare them feature by feature with what the model was served.
        </p>
      )}
    </section>
  );
}
