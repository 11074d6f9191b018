import type { CSSProperties } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, LabelList, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { QualityReply, QuestionAgreement, RaterQuestionReliability } from '@backflow/contracts';
import { amount, figure, percent } from './format';

/** How agreement on a question is measured, as its bar is labelled: "α (ordinal)", "span F1". */
export const measureName = (q: Pick<QuestionAgreement, 'measure' | 'distance'>) =>
  q.measure === 'span_f1' ? 'span F1' : `α (${q.distance === 'masi' ? 'MASI' : (q.distance ?? 'nominal')})`;

const RATER_MEASURES: Record<RaterQuestionReliability['measure'], string> = {
  exact: 'share equal',
  mean_jaccard: 'mean Jaccard',
  within_one: 'within one point',
  within_tolerance: 'within tolerance',
  mean_span_f1: 'mean span F1',
};

/** A rater's figure on a question: a share as a percentage, a mean similarity or F1 as a fraction. */
export const reliabilityText = (r: Pick<RaterQuestionReliability, 'measure' | 'value'>) =>
  r.measure === 'mean_jaccard' || r.measure === 'mean_span_f1' ? figure(r.value, 2) : percent(r.value, 0);

// Krippendorff's rule of thumb: rely on α ≥ 0.8, draw tentative conclusions from 0.667
const RELIABLE = 0.8;
const TENTATIVE = 0.667;
const barColour = (value: number | null) => (value === null ? '#d3cbbd' : value >= RELIABLE ? '#0c6b66' : value >= TENTATIVE ? '#79d3c9' : '#f0a35e');

/** A cell's colour: amber below 0.5, teal above, stronger the further from it. */
function heat(value: number | null): CSSProperties | undefined {
  if (value === null) return undefined;
  const strength = (0.08 + 1.2 * Math.abs(value - 0.5)).toFixed(2);
  return { background: value >= 0.5 ? `rgba(17, 128, 122, ${strength})` : `rgba(194, 102, 28, ${strength})` };
}

/** Agreement between raters on each question, with the measure its kind calls for, and each rater's reliability question by question. */
export function QuestionAgreementPanel({ data }: { data: QualityReply }) {
  const bars = data.questions.map((q) => ({
    question: `${q.name} · ${measureName(q)}`,
    value: q.value ?? 0,
    measured: q.value,
    // categorical answers also get Fleiss' κ, the figure labeling teams quote
    shown:
      (q.value === null ? 'nothing to measure' : figure(q.value, 2)) +
      (q.fleissKappa !== undefined && q.fleissKappa !== null ? ` · κ ${figure(q.fleissKappa, 2)}` : ''),
    pairable: q.pairable,
  }));
  const low = Math.min(0, ...data.questions.map((q) => Math.floor((q.value ?? 0) * 5) / 5));
  const raters = data.raters.filter((r) => r.questions.some((q) => q.compared > 0));
  const measures = new Map(data.raters.flatMap((r) => r.questions.map((q) => [q.name, q.measure] as const)));
  return (
    <section className="admin-section" aria-labelledby="question-agreement-title" data-testid="question-agreement-panel">
      <div className="admin-section__head">
        <h2 id="question-agreement-title">Agreement per question</h2>
      </div>
      <p className="admin-section__lede">
        Krippendorff&apos;s α between raters on each question, with the distance its kind calls for (a near miss on a scale or a number counts as partial
        agreement, a shared label in a set too); spans get the mean F1 over every pair of raters on a task; labels and preferences also show Fleiss&apos; κ.
        Rely on 0.8 or more; 0.667 allows tentative conclusions.
      </p>
      <div
        className="ops-chart"
        role="img"
        aria-label={`Agreement per question: ${bars.map((b) => `${b.question} ${b.shown}`).join(', ')}`}
        data-testid="question-agreement-chart"
      >
        <ResponsiveContainer width="100%" height={Math.max(120, 40 * bars.length + 52)}>
          <BarChart data={bars} layout="vertical" margin={{ top: 20, right: 120, bottom: 0, left: 8 }}>
            <CartesianGrid stroke="#e4ded3" horizontal={false} />
            <XAxis type="number" domain={[low, 1]} tick={{ fontSize: 12 }} />
            <YAxis type="category" dataKey="question" tick={{ fontSize: 12 }} width={200} />
            <Tooltip
              formatter={(_v, _name, item) => `${(item.payload as (typeof bars)[number]).shown} (${(item.payload as (typeof bars)[number]).pairable} answers)`}
            />
            <ReferenceLine x={TENTATIVE} stroke="#c2661c" strokeDasharray="3 3" />
            <ReferenceLine x={RELIABLE} stroke="#0c6b66" strokeDasharray="5 4" label={{ value: '0.8', fontSize: 11, fill: '#0c6b66', position: 'top' }} />
            <Bar dataKey="value" name="agreement" barSize={20} isAnimationActive={false}>
              {bars.map((b) => (
                <Cell key={b.question} fill={barColour(b.measured)} />
              ))}
              <LabelList dataKey="shown" position="right" style={{ fontSize: 12, fill: '#14232d' }} />
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      {raters.length ? (
        <>
          <h3 className="ops-chart__title">Each rater against the final answers, question by question</h3>
          <table className="admin-table heat-table" data-testid="rater-questions">
            <thead>
              <tr>
                <th scope="col">Rater</th>
                {data.questions.map((q) => (
                  <th key={q.name} scope="col">
                    {q.name}
                    <span className="heat-table__measure">{RATER_MEASURES[measures.get(q.name) ?? 'exact']}</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {raters.map((r) => (
                <tr key={r.raterId} data-rater={r.email}>
                  <th scope="row">{r.email}</th>
                  {data.questions.map((q) => {
                    const mine = r.questions.find((m) => m.name === q.name);
                    return (
                      <td
                        key={q.name}
                        data-question={q.name}
                        style={heat(mine?.value ?? null)}
                        title={mine ? `${mine.compared} answers compared with the final answer` : undefined}
                      >
                        {mine ? reliabilityText(mine) : '—'}
                        {mine?.meanAbsoluteError !== null && mine?.meanAbsoluteError !== undefined ? (
                          <span className="heat-table__detail">MAE {amount(mine.meanAbsoluteError)}</span>
                        ) : null}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
