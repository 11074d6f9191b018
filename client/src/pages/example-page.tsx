import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ExampleDetail } from '@backflow/contracts';
import { errorMessage } from '../lib/api';
import { explorerPath, navigate } from '../lib/router';
import { exampleQuery, explorerScope, relabel } from '../modules/explorer/api/explorer-api';
import { projectQuery } from '../modules/projects/api/projects-api';
import { Alert } from '../ui/alert';
import { Badge } from '../ui/badge';
import { Button } from '../ui/button';
import { PageShell } from '../ui/page-shell';
import { ConfidenceBar } from './explorer-page';
import './admin-pages.css';
import './explorer-page.css';

export interface ExamplePageProps {
  slug: string;
  id: string;
}

const formatTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** One prediction and everything that happened to it: its input, feedback, task, answers, labels and the spans that exported them. */
export function ExamplePage({ slug, id }: ExamplePageProps) {
  const project = useQuery(projectQuery(slug)).data;
  const example = useQuery(exampleQuery(slug, id));
  const name = project?.name ?? slug;

  useEffect(() => {
    document.title = `${name} example · Backflow`;
  }, [name]);

  const routing = project?.questions.find((q) => q.name === project.routingQuestion);
  const labels = routing?.kind === 'label' ? routing.labels.map((l) => l.name) : [];

  return (
    <PageShell className="admin-page explorer-page">
      <button
        type="button"
        className="link-button"
        onClick={() => (window.history.length > 1 ? window.history.back() : navigate(explorerPath(slug)))}
        data-testid="back-to-data"
      >
        ← {name}: data
      </button>
      {example.error ? <Alert>{errorMessage(example.error, 'This prediction could not be loaded.')}</Alert> : null}
      {example.data ? <Example slug={slug} example={example.data} labels={labels} /> : !example.error ? <p className="admin-section__lede">Loading…</p> : null}
    </PageShell>
  );
}

function Example({ slug, example, labels }: { slug: string; example: ExampleDetail; labels: string[] }) {
  const { prediction } = example;
  const current = example.labels.find((l) => l.current);
  return (
    <>
      <div className="admin-page__head">
        <h1 className="admin-page__title">Prediction {prediction.id.slice(0, 8)}</h1>
        {current ? <Badge tone="neutral">{`labeled ${current.value} (${current.source})`}</Badge> : <Badge tone="neutral">not labeled</Badge>}
      </div>
      <div className="example-grid">
        <section className="admin-section" aria-labelledby="input-title">
          <h2 id="input-title">Input</h2>
          <table className="admin-table example-input" data-testid="example-input">
            <tbody>
              {Object.entries(prediction.input).map(([field, value]) => (
                <tr key={field}>
                  <th scope="row">{field}</th>
                  <td>{show(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {prediction.masked.length ? <p className="explorer-muted">Masked, shown to admins only: {prediction.masked.join(', ')}</p> : null}
        </section>
        <section className="admin-section" aria-labelledby="model-title">
          <h2 id="model-title">The model said</h2>
          <dl className="admin-facts">
            <div>
              <dt>Label</dt>
              <dd>{prediction.predictedLabel ?? '—'}</dd>
            </div>
            <div>
              <dt>Confidence</dt>
              <dd>
                <ConfidenceBar value={prediction.confidence} />
              </dd>
            </div>
            <div>
              <dt>Model</dt>
              <dd>
                {prediction.model.name} {prediction.model.version}
              </dd>
            </div>
            <div>
              <dt>Made</dt>
              <dd>{formatTime(prediction.occurredAt)}</dd>
            </div>
            <div>
              <dt>Received</dt>
              <dd>{formatTime(prediction.receivedAt)}</dd>
            </div>
            <div>
              <dt>Slice</dt>
              <dd>
                {Object.entries(prediction.slice)
                  .map(([key, value]) => `${key}:${value}`)
                  .join(' ') || '—'}
              </dd>
            </div>
          </dl>
          {prediction.scores ? (
            <table className="admin-table" aria-label="Scores">
              <tbody>
                {Object.entries(prediction.scores)
                  .sort(([, a], [, b]) => b - a)
                  .map(([label, score]) => (
                    <tr key={label}>
                      <th scope="row">{label}</th>
                      <td>
                        <ConfidenceBar value={score} />
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          ) : null}
        </section>
      </div>

      <div className="example-grid">
        <section className="admin-section" aria-labelledby="labels-title">
          <h2 id="labels-title">Labels</h2>
          {example.labels.length ? (
            <ol className="example-timeline" data-testid="label-history">
              {example.labels.map((label) => (
                <li key={label.id} className={label.current ? 'example-timeline__current' : undefined}>
                  <strong>
                    {label.value}{' '}
                    <span className="explorer-muted">
                      ({label.source}
                      {label.rule ? `, rule ${label.rule}` : ''})
                    </span>
                  </strong>
                  <span className="explorer-muted">
                    {formatTime(label.createdAt)}
                    {label.current ? ' · current' : label.supersededAt ? ` · replaced ${formatTime(label.supersededAt)}` : ''}
                    {label.agreement !== null ? ` · agreement ${label.agreement.toFixed(2)}` : ''}
                    {label.exported.length ? ` · exported in span ${label.exported.map((e) => e.span).join(', ')}` : ''}
                  </span>
                </li>
              ))}
            </ol>
          ) : (
            <p className="admin-section__lede">No label yet.</p>
          )}
          {labels.length ? <RelabelForm slug={slug} id={prediction.id} labels={labels} current={example.labels.find((l) => l.current)?.value} /> : null}
          {example.history.length ? (
            <>
              <h3>Relabeled by hand</h3>
              <ul className="example-timeline" data-testid="relabel-history">
                {example.history.map((entry, i) => (
                  <li key={i}>
                    <strong>
                      {show(entry.details.previous ?? 'no label')} → {show(entry.details.label)}
                    </strong>
                    <span className="explorer-muted">
                      {entry.actor ?? 'a removed person'} · {formatTime(entry.at)}
                    </span>
                    <span>{show(entry.details.reason)}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
        <section className="admin-section" aria-labelledby="task-title">
          <h2 id="task-title">Task and answers</h2>
          {example.task ? (
            <>
              <p className="admin-section__lede">
                Routed for <strong>{example.task.reason}</strong> {formatTime(example.task.createdAt)} · {example.task.state}
                {example.task.inclusionProbability !== null ? ` · inclusion probability ${example.task.inclusionProbability}` : ''} ·{' '}
                {example.task.requiredAnnotations} {example.task.requiredAnnotations === 1 ? 'answer' : 'answers'} asked
              </p>
              {example.answers.length ? (
                <table className="admin-table" data-testid="answers">
                  <thead>
                    <tr>
                      <th scope="col">Rater</th>
                      <th scope="col">Answer</th>
                      <th scope="col">Time</th>
                      <th scope="col">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {example.answers.map((answer) => (
                      <tr key={answer.id}>
                        <td>{answer.rater ?? 'a removed person'}</td>
                        <td>{answer.label ?? show(answer.answers)}</td>
                        <td>{answer.timeSpentMs !== null ? `${(answer.timeSpentMs / 1000).toFixed(1)} s` : '—'}</td>
                        <td>
                          {formatTime(answer.createdAt)}
                          {answer.late ? ' (late)' : ''}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="explorer-muted">No answer yet.</p>
              )}
            </>
          ) : (
            <p className="admin-section__lede">Never routed to raters.</p>
          )}
          <h3>Feedback</h3>
          {example.feedback.length ? (
            <ul className="example-timeline" data-testid="feedback">
              {example.feedback.map((event) => (
                <li key={event.id}>
                  <strong>{event.type}</strong>
                  <span className="explorer-muted">
                    {formatTime(event.occurredAt)}
                    {event.value !== null && event.value !== undefined ? ` · ${show(event.value)}` : ''}
                    {event.appliedAt ? ' · applied' : ' · waiting'}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="explorer-muted">No feedback event.</p>
          )}
        </section>
      </div>
    </>
  );
}

function RelabelForm({ slug, id, labels, current }: { slug: string; id: string; labels: string[]; current: string | undefined }) {
  const queryClient = useQueryClient();
  const [label, setLabel] = useState('');
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const mutation = useMutation({
    mutationFn: () => relabel(slug, id, { label, reason }),
    onSuccess: (example) => {
      queryClient.setQueryData(exampleQuery(slug, id).queryKey, example);
      setDone(`Relabeled ${label}.`);
      setReason('');
      setLabel('');
      return queryClient.invalidateQueries({ queryKey: [...explorerScope(slug), 'search'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    mutation.mutate();
  };
  return (
    <form className="example-relabel" onSubmit={submit} aria-label="Relabel">
      <h3>Relabel</h3>
      <label className="explorer-field">
        <span>New label</span>
        <select value={label} onChange={(event) => setLabel(event.target.value)} required data-testid="relabel-label">
          <option value="">choose…</option>
          {labels.map((name) => (
            <option key={name} value={name} disabled={name === current}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label className="explorer-field">
        <span>Why (kept in the audit log with your name)</span>
        <textarea value={reason} onChange={(event) => setReason(event.target.value)} required maxLength={1000} rows={2} data-testid="relabel-reason" />
      </label>
      <div>
        <Button type="submit" disabled={!label || !reason.trim() || mutation.isPending} data-testid="relabel-submit">
          {mutation.isPending ? 'Saving…' : 'Relabel'}
        </Button>
      </div>
      {mutation.error ? <Alert>{errorMessage(mutation.error, 'The relabel failed.')}</Alert> : null}
      {done ? <p role="status">{done}</p> : null}
    </form>
  );
}
