import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { QualityReply } from '@backflow/contracts';
import { figure, percent } from './format';

/** Agreement between raters over time, where they confuse classes, and how reliable each one is. */
export function AgreementPanel({ data }: { data: QualityReply }) {
  const max = Math.max(1, ...data.confusion.flat());
  const raters = data.raters.filter((r) => r.tasks > 0);
  return (
    <section className="admin-section" aria-labelledby="agreement-title" data-testid="agreement-panel">
      <div className="admin-section__head">
        <h2 id="agreement-title">Rater agreement</h2>
      </div>
      <dl className="ops-tiles">
        <div>
          <dt>Fleiss&apos; kappa</dt>
          <dd data-testid="kappa">{figure(data.agreement.fleissKappa, 2)}</dd>
        </div>
        <div>
          <dt>Krippendorff&apos;s alpha</dt>
          <dd data-testid="alpha">{figure(data.agreement.krippendorffAlpha, 2)}</dd>
        </div>
        <div>
          <dt>Tasks all raters agreed on</dt>
          <dd>{percent(data.agreement.unanimous, 0)}</dd>
        </div>
        <div>
          <dt>Tasks with two answers or more</dt>
          <dd>{data.agreement.tasks.toLocaleString()}</dd>
        </div>
      </dl>
      <p className="admin-section__lede">
        Consensus by{' '}
        {data.consensus === 'dawid_skene' ? 'Dawid-Skene (re-estimated every ten minutes; labels already exported stay as they are)' : 'majority vote'}.
        {data.dawidSkene && data.dawidSkene.disagreesWithMajority > 0
          ? ` Dawid-Skene would class ${data.dawidSkene.disagreesWithMajority} tasks differently from the majority.`
          : ''}
        {data.lastReestimate ? ` Last re-estimate re-decided ${data.lastReestimate.relabeled} labels.` : ''}
        {data.classes.length
          ? ''
          : ' The routing question is not a label question: kappa and alpha here count only identical answers as agreement; agreement per question, below, measures it as the question’s kind calls for.'}
      </p>
      {data.days.length > 1 ? (
        <div className="ops-chart" role="img" aria-label="Agreement per day">
          <ResponsiveContainer width="100%" height={180}>
            <LineChart data={data.days} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#e4ded3" vertical={false} />
              <XAxis dataKey="day" tick={{ fontSize: 12 }} />
              <YAxis domain={[-0.2, 1]} tick={{ fontSize: 12 }} width={40} />
              <Tooltip formatter={(v) => figure(Number(v), 2)} />
              <Legend />
              <Line dataKey="fleissKappa" name="kappa" stroke="#0c6b66" isAnimationActive={false} />
              <Line dataKey="krippendorffAlpha" name="alpha" stroke="#c2661c" strokeDasharray="4 3" isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      ) : null}
      {/* the routing question's classes: none when it is not a label question */}
      {data.classes.length ? (
        <>
          <h3 className="ops-chart__title">Where raters disagree (answers to the same task, by pair)</h3>
          <table className="admin-table confusion-table" data-testid="confusion-table">
            <thead>
              <tr>
                <th scope="col">one says ↓ / another says →</th>
                {data.classes.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.classes.map((c, i) => (
                <tr key={c}>
                  <th scope="row">{c}</th>
                  {data.confusion[i].map((n, j) => (
                    <td
                      key={data.classes[j]}
                      style={{ background: `rgba(${i === j ? '17, 128, 122' : '194, 102, 28'}, ${(0.08 + (0.6 * n) / max).toFixed(2)})` }}
                    >
                      {n}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {raters.length ? (
        <div className="ops-chart" role="img" aria-label="Each rater's estimated accuracy and agreement with the final label">
          <ResponsiveContainer width="100%" height={Math.max(120, 30 * raters.length + 50)}>
            <BarChart
              data={raters.map((r) => ({ rater: r.email, estimated: r.estimatedAccuracy, agreement: r.agreementWithFinal, gold: r.goldAccuracy }))}
              layout="vertical"
              margin={{ top: 8, right: 24, bottom: 0, left: 8 }}
            >
              <CartesianGrid stroke="#e4ded3" horizontal={false} />
              <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} tick={{ fontSize: 12 }} />
              <YAxis type="category" dataKey="rater" tick={{ fontSize: 11 }} width={230} />
              <Tooltip formatter={(v) => percent(Number(v))} />
              <Legend />
              <Bar dataKey="estimated" name="Dawid-Skene accuracy" fill="#0c6b66" isAnimationActive={false} />
              <Bar dataKey="agreement" name="agrees with final label" fill="#9fd3cc" isAnimationActive={false} />
              <Bar dataKey="gold" name="gold accuracy" fill="#c2661c" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      ) : null}
      <table className="admin-table" data-testid="reliability-table">
        <thead>
          <tr>
            <th scope="col">Rater</th>
            <th scope="col">Tasks</th>
            <th scope="col">Median time</th>
            <th scope="col">Gold</th>
            <th scope="col">Agrees with final</th>
            <th scope="col">Dawid-Skene accuracy</th>
          </tr>
        </thead>
        <tbody>
          {data.raters.map((r) => (
            <tr key={r.raterId}>
              <td>{r.email}</td>
              <td>{r.tasks}</td>
              <td>{r.medianTimeMs === null ? '—' : `${(r.medianTimeMs / 1000).toFixed(1)} s`}</td>
              <td>{r.goldAnswers ? `${percent(r.goldAccuracy, 0)} of ${r.goldAnswers}` : '—'}</td>
              <td>{percent(r.agreementWithFinal, 0)}</td>
              <td>{percent(r.estimatedAccuracy, 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
