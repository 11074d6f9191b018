import { useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useDebounce } from 'use-debounce';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LabelingFunction, LabelingFunctionBody, WeakSupervisionAnalysis } from '@backflow/contracts';
import { errorMessage } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import { labelingFunctionPreviewQuery, weakAnalysisQuery, type Project } from '../api/projects-api';
import { useUpdateProject } from '../hooks/use-update-project';

const PREVIEW_DELAY_MS = 500;
type Kind = LabelingFunction['when']['kind'];

const KINDS: Array<{ kind: Kind; name: string }> = [
  { kind: 'keywords', name: 'has any of these words' },
  { kind: 'regex', name: 'matches a regular expression' },
  { kind: 'threshold', name: 'a number between' },
  { kind: 'in', name: 'is one of' },
  { kind: 'score', name: 'the model’s score for a label between' },
];

interface Draft {
  name: string;
  label: string;
  kind: Kind;
  on: 'feature' | 'slice';
  field: string;
  words: string;
  pattern: string;
  flags: string;
  min: string;
  max: string;
  of: string;
}

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const number = (text: string) => (text.trim() === '' ? undefined : Number(text));

/** The function the draft describes, or undefined while it is incomplete. */
function functionOf(draft: Draft): LabelingFunctionBody | undefined {
  if (!draft.name.trim() || !draft.label) return undefined;
  const on = draft.on === 'feature' ? { feature: draft.field.trim() } : { slice: draft.field.trim() };
  const needsField = draft.kind !== 'score';
  if (needsField && !draft.field.trim()) return undefined;
  const bounds = {
    ...(number(draft.min) !== undefined ? { min: number(draft.min) } : {}),
    ...(number(draft.max) !== undefined ? { max: number(draft.max) } : {}),
  };
  const when = (() => {
    switch (draft.kind) {
      case 'keywords':
        return list(draft.words).length ? { kind: 'keywords' as const, on, keywords: list(draft.words) } : undefined;
      case 'regex':
        return draft.pattern ? { kind: 'regex' as const, on, pattern: draft.pattern, ...(draft.flags ? { flags: draft.flags } : {}) } : undefined;
      case 'threshold':
        return Object.keys(bounds).length ? { kind: 'threshold' as const, on, ...bounds } : undefined;
      case 'in':
        return list(draft.words).length ? { kind: 'in' as const, on, values: list(draft.words) } : undefined;
      case 'score':
        return draft.of && Object.keys(bounds).length ? { kind: 'score' as const, of: draft.of, ...bounds } : undefined;
    }
  })();
  return when && { name: draft.name.trim(), label: draft.label, when };
}

/** What a function reads and when it votes, in words. */
function describe(f: LabelingFunction): string {
  const w = f.when;
  const field = 'on' in w ? ('feature' in w.on ? `${w.on.feature}` : `slice ${w.on.slice}`) : '';
  const range = (min?: number, max?: number) => [min !== undefined ? `≥ ${min}` : '', max !== undefined ? `< ${max}` : ''].filter(Boolean).join(' and ');
  switch (w.kind) {
    case 'keywords':
      return `${field} has ${w.keywords.map((k) => `“${k}”`).join(', ')}`;
    case 'regex':
      return `${field} matches /${w.pattern}/${w.flags ?? ''}`;
    case 'threshold':
      return `${field} ${range(w.min, w.max)}`;
    case 'in':
      return `${field} is ${w.values.join(', ')}`;
    case 'score':
      return `score of ${w.of} ${range(w.min, w.max)}`;
  }
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

/** Each function's coverage, conflicts and accuracy against human labels, as bars. */
function FunctionsChart({ analysis }: { analysis: WeakSupervisionAnalysis }) {
  const data = analysis.functions.map((f) => ({
    name: f.name,
    coverage: f.coverage,
    conflicts: f.conflicts,
    accuracy: f.empiricalAccuracy?.value ?? null,
    estimated: f.estimatedAccuracy,
  }));
  const label = `Labeling functions: ${analysis.functions.map((f) => `${f.name} covers ${pct(f.coverage)}, conflicts ${pct(f.conflicts)}, accuracy ${pct(f.empiricalAccuracy?.value)}`).join('; ')}`;
  return (
    <div className="ops-chart" role="img" aria-label={label} data-testid="weak-functions-chart">
      <ResponsiveContainer width="100%" height={Math.max(160, 58 * data.length + 60)}>
        <BarChart data={data} layout="vertical" margin={{ top: 8, right: 24, bottom: 0, left: 8 }} barGap={1}>
          <CartesianGrid stroke="#e4ded3" horizontal={false} />
          <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} tick={{ fontSize: 12 }} />
          <YAxis type="category" dataKey="name" tick={{ fontSize: 12 }} width={150} />
          <Tooltip formatter={(v) => pct(Number(v))} />
          <Legend itemSorter={null} />
          <Bar dataKey="coverage" name="coverage" fill="#9fd3cc" isAnimationActive={false} />
          <Bar dataKey="conflicts" name="conflicts" fill="#a8261b" isAnimationActive={false} />
          <Bar dataKey="accuracy" name="accuracy on human labels" fill="#0c6b66" isAnimationActive={false} />
          <Bar dataKey="estimated" name="label model’s estimate" fill="#f0a35e" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Labeling functions: what each one votes over recent traffic, a new one previewed before it is saved, and what their votes do. */
/** A feedback rule's vote as people read it (`feedback rules[1]` is the second rule: "a correction event"). */
function feedbackRuleOf(name: string, project: Project): string {
  const index = /rules\[(\d+)\]/.exec(name)?.[1];
  const rule = index === undefined ? undefined : project.feedbackRules?.rules[Number(index)];
  if (rule) return `feedback rule ${Number(index) + 1}: a “${rule.eventType}” event`;
  return /absence/.test(name) ? 'feedback rule: no event within the window' : 'a feedback rule';
}

const voteOf = (label: string) => (label === '$value' ? 'the event’s value' : label);

export function WeakSupervisionPanel({ project }: { project: Project }) {
  const update = useUpdateProject(project.slug);
  const labels = project.labels.map((l) => l.name);
  const settings = project.weakSupervision ?? { functions: [], routeConflicts: true };
  const analysis = useQuery({ ...weakAnalysisQuery(project.slug), enabled: labels.length > 0 });
  const [draft, setDraft] = useState<Draft>({
    name: '',
    label: labels[0] ?? '',
    kind: 'keywords',
    on: 'feature',
    field: '',
    words: '',
    pattern: '',
    flags: 'i',
    min: '',
    max: '',
    of: labels[0] ?? '',
  });
  const [status, setStatus] = useState<{ tone: 'error' | 'info'; message: string } | null>(null);
  const [minProbability, setMinProbability] = useState(settings.weakLabels ? String(settings.weakLabels.minProbability) : '');
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const candidate = useMemo(() => functionOf(draft), [draft]);
  const [previewed] = useDebounce(candidate, PREVIEW_DELAY_MS);
  const preview = useQuery({
    ...labelingFunctionPreviewQuery(project.slug, { function: previewed!, limit: 5_000 }),
    enabled: previewed !== undefined,
    placeholderData: keepPreviousData,
    retry: false,
  });
  const previewed_ = preview.data?.functions.find((f) => f.name === candidate?.name && f.source === 'function');

  if (labels.length === 0) return null;

  const save = (patch: Partial<typeof settings>, done: string) => {
    setStatus(null);
    update.mutate(
      { weakSupervision: { ...settings, ...patch } },
      {
        onSuccess: () => {
          setStatus({ tone: 'info', message: done });
          void analysis.refetch();
        },
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'Not saved.') }),
      },
    );
  };
  const add = () => {
    if (!candidate) return;
    save(
      { functions: [...settings.functions.filter((f) => f.name !== candidate.name), candidate as LabelingFunction] },
      `Saved: “${candidate.name}” votes from now on.`,
    );
  };

  return (
    <section className="admin-section" aria-labelledby="weak-title" data-testid="weak-supervision">
      <h2 id="weak-title">Labeling functions</h2>
      <p className="admin-section__lede">
        Rules that vote a label or abstain on every prediction. Where they disagree, people decide; where they agree and no one labelled, the label model can
        label (source weak, weighted by its probability). Feedback rules count as functions here.
      </p>
      {status ? (
        <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
          <p>{status.message}</p>
        </Alert>
      ) : null}
      {analysis.data && analysis.data.functions.length > 0 ? (
        <>
          <p className="admin-section__lede" data-testid="weak-totals">
            Over the newest {analysis.data.examined.toLocaleString()} predictions ({analysis.data.humanLabelled.toLocaleString()} with a human label): some
            function voted on {pct(analysis.data.coverage)}, functions disagreed on {pct(analysis.data.conflicts)}
            {analysis.data.labelModel?.accuracyOnHumanLabels != null
              ? `, and the label model agrees with people ${pct(analysis.data.labelModel.accuracyOnHumanLabels)} of the time`
              : ''}
            .
          </p>
          <FunctionsChart analysis={analysis.data} />
          <table className="admin-table" data-testid="weak-functions">
            <thead>
              <tr>
                <th scope="col">Function</th>
                <th scope="col">Votes</th>
                <th scope="col">Coverage</th>
                <th scope="col">Overlaps</th>
                <th scope="col">Conflicts</th>
                <th scope="col">Accuracy (95%)</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {analysis.data.functions.map((f) => {
                const defined = settings.functions.find((d) => d.name === f.name);
                return (
                  <tr key={`${f.source}-${f.name}`}>
                    <td>
                      {defined ? f.name : feedbackRuleOf(f.name, project)}
                      <br />
                      <small>{defined ? describe(defined) : 'from the project’s feedback rules'}</small>
                    </td>
                    <td>{voteOf(f.label)}</td>
                    <td>{pct(f.coverage)}</td>
                    <td>{pct(f.overlaps)}</td>
                    <td>{pct(f.conflicts)}</td>
                    <td>
                      {f.empiricalAccuracy
                        ? `${pct(f.empiricalAccuracy.value)} (${pct(f.empiricalAccuracy.low)}–${pct(f.empiricalAccuracy.high)}), ${f.correct + f.incorrect} labels`
                        : 'no human label yet'}
                    </td>
                    <td>
                      {defined ? (
                        <Button
                          variant="secondary"
                          onClick={() => save({ functions: settings.functions.filter((d) => d.name !== f.name) }, `Removed “${f.name}”.`)}
                        >
                          Remove
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      ) : (
        <p className="admin-section__lede">No functions yet: write one below and see its votes before you save it.</p>
      )}

      <h3>A new function</h3>
      <div className="admin-form__row">
        <TextField label="Name" name="lfName" value={draft.name} onChange={(e) => set({ name: e.target.value })} placeholder="e.g. free-offer" />
        <label className="admin-form__select">
          Votes
          <select name="lfLabel" value={draft.label} onChange={(e) => set({ label: e.target.value })}>
            {labels.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label className="admin-form__select">
          When
          <select name="lfKind" value={draft.kind} onChange={(e) => set({ kind: e.target.value as Kind })}>
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="admin-form__row">
        {draft.kind === 'score' ? (
          <label className="admin-form__select">
            Score of
            <select name="lfOf" value={draft.of} onChange={(e) => set({ of: e.target.value })}>
              {labels.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <>
            <label className="admin-form__select">
              Reads
              <select name="lfOn" value={draft.on} onChange={(e) => set({ on: e.target.value as Draft['on'] })}>
                <option value="feature">the feature</option>
                <option value="slice">the slice key</option>
              </select>
            </label>
            <TextField label="Named" name="lfField" value={draft.field} onChange={(e) => set({ field: e.target.value })} />
          </>
        )}
        {draft.kind === 'keywords' || draft.kind === 'in' ? (
          <TextField
            label={draft.kind === 'keywords' ? 'Words' : 'Values'}
            name="lfWords"
            value={draft.words}
            hint="Separated by commas."
            onChange={(e) => set({ words: e.target.value })}
          />
        ) : null}
        {draft.kind === 'regex' ? (
          <>
            <TextField label="Pattern" name="lfPattern" value={draft.pattern} onChange={(e) => set({ pattern: e.target.value })} />
            <TextField label="Flags" name="lfFlags" value={draft.flags} hint="i, m, s, u" onChange={(e) => set({ flags: e.target.value })} />
          </>
        ) : null}
        {draft.kind === 'threshold' || draft.kind === 'score' ? (
          <>
            <TextField label="At least" name="lfMin" type="number" value={draft.min} onChange={(e) => set({ min: e.target.value })} />
            <TextField
              label={draft.kind === 'score' ? 'At most' : 'Below'}
              name="lfMax"
              type="number"
              value={draft.max}
              onChange={(e) => set({ max: e.target.value })}
            />
          </>
        ) : null}
      </div>
      <div aria-live="polite" data-testid="weak-preview">
        {preview.isError && candidate ? <p className="admin-section__lede metric--down">{errorMessage(preview.error, 'No preview.')}</p> : null}
        {previewed_ && candidate && !preview.isError ? (
          <>
            <p className="admin-section__lede" data-testid="weak-preview-figures">
              “{previewed_.name}” would vote on {pct(previewed_.coverage)} of the newest {preview.data!.examined.toLocaleString()} predictions and disagree with
              another function on {pct(previewed_.conflicts)};{' '}
              {previewed_.empiricalAccuracy
                ? `right on ${previewed_.correct} of the ${previewed_.correct + previewed_.incorrect} that people labelled (${pct(previewed_.empiricalAccuracy.value)}).`
                : 'none of its votes has a human label yet.'}
            </p>
            {preview.data!.votes.length ? (
              <table className="admin-table" data-testid="weak-preview-votes">
                <thead>
                  <tr>
                    <th scope="col">Prediction</th>
                    <th scope="col">Its vote</th>
                    <th scope="col">Human label</th>
                    <th scope="col">Other votes</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.data!.votes.slice(0, 8).map((v) => (
                    <tr key={v.predictionId}>
                      <td>
                        <code>{v.predictionId.slice(0, 8)}</code>
                      </td>
                      <td>{v.vote}</td>
                      <td className={v.humanLabel && v.humanLabel !== v.vote ? 'metric--down' : undefined}>{v.humanLabel ?? '—'}</td>
                      <td>
                        {Object.entries(v.others)
                          .map(([name, vote]) => `${name}: ${vote}`)
                          .join(', ') || '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </>
        ) : null}
      </div>
      <div className="admin-form__actions">
        <Button onClick={add} disabled={!candidate || preview.isError} busy={update.isPending}>
          Add function
        </Button>
      </div>

      <h3>What their votes do</h3>
      <div className="admin-form__row">
        <label className="admin-form__check">
          <input
            type="checkbox"
            name="routeConflicts"
            checked={settings.routeConflicts}
            onChange={(e) => save({ routeConflicts: e.target.checked }, e.target.checked ? 'Conflicts go to raters.' : 'Conflicts no longer go to raters.')}
          />{' '}
          Send what they disagree on to raters
        </label>
        <TextField
          label="Weak labels at probability ≥"
          name="weakMinProbability"
          type="number"
          min={0}
          max={1}
          step={0.05}
          hint="Blank: no weak labels."
          value={minProbability}
          onChange={(e) => setMinProbability(e.target.value)}
        />
      </div>
      <div className="admin-form__actions">
        <Button
          variant="secondary"
          onClick={() =>
            save(
              { weakLabels: minProbability.trim() === '' ? undefined : { minProbability: Number(minProbability) } },
              minProbability.trim() === '' ? 'No weak labels from now on.' : 'Saved: the label model labels what no one did, every minute.',
            )
          }
        >
          Save weak labels
        </Button>
      </div>
    </section>
  );
}
