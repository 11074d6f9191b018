import { useState, type ChangeEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorMessage } from '../../lib/api';
import { errorHeadingOf } from '../../lib/error-headings';
import { Alert } from '../../ui/alert';
import { Button } from '../../ui/button';
import { importLabelStudio, interopBase as base, kserveStatusQuery } from './api/interop-api';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * Where model servers and other tools plug in: the KServe / Seldon logger sink with its state
 * (halves waiting for their pair, pairs made, halves that expired), Seldon's feedback URL, and
 * Label Studio's JSON, both ways.
 */
export function IntegrationsPanel({ slug }: { slug: string }) {
  const queryClient = useQueryClient();
  const statusReply = useQuery(kserveStatusQuery(slug));
  const status = statusReply.data ?? null;
  const [unreadable, setUnreadable] = useState<string | null>(null);
  const [labeledOnly, setLabeledOnly] = useState(true);

  const importing = useMutation({
    mutationFn: (tasks: unknown) => importLabelStudio(slug, tasks),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: kserveStatusQuery(slug).queryKey }),
  });
  const imported = importing.data ?? null;
  const error =
    unreadable ??
    (importing.error
      ? errorMessage(importing.error, 'The import failed; nothing of it was stored.')
      : statusReply.error
        ? errorMessage(statusReply.error, 'The sink’s state could not be loaded.')
        : null);

  const importFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    setUnreadable(null);
    importing.reset();
    let tasks: unknown;
    try {
      tasks = JSON.parse(await file.text());
    } catch {
      setUnreadable(`${file.name} is not JSON: export the Label Studio project as JSON (not JSON-MIN or CSV).`);
      return;
    }
    importing.mutate(tasks);
  };

  const origin = window.location.origin;
  return (
    <section className="admin-section" aria-labelledby="integrations-title" data-testid="integrations-panel">
      <div className="admin-section__head">
        <h2 id="integrations-title">Integrations</h2>
        <Button variant="secondary" onClick={() => void statusReply.refetch()}>
          Refresh
        </Button>
      </div>
      {error ? (
        <Alert title={unreadable ? 'The file could not be read' : errorHeadingOf(importing.error ?? statusReply.error)}>
          <p>{error}</p>
        </Alert>
      ) : null}

      <h3 className="ops-chart__title">KServe or Seldon inference logger</h3>
      <p className="admin-section__lede">
        Point the InferenceService’s <code>logger.url</code> (mode <code>all</code>) here, with an ingest key added on the way in: each request and response
        pair becomes predictions, paired by its CloudEvent id.
      </p>
      <pre className="integration-url" data-testid="kserve-url">
        {`${origin}${base(slug)}/integrations/kserve`}
      </pre>
      {status ? (
        <dl className="ops-tiles" data-testid="kserve-status">
          <div>
            <dt>Pairs in the last day</dt>
            <dd>{status.pairedLastDay.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Predictions in the last day</dt>
            <dd>{status.predictionsLastDay.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Waiting for their pair</dt>
            <dd>{(status.pending.requests + status.pending.responses).toLocaleString()}</dd>
          </div>
          <div>
            <dt>Expired unpaired (after {status.windowMinutes} min)</dt>
            <dd>{(status.expired.requests + status.expired.responses).toLocaleString()}</dd>
          </div>
          <div>
            <dt>Pairs refused</dt>
            <dd>{status.rejectedPairs.toLocaleString()}</dd>
          </div>
        </dl>
      ) : null}
      {status?.pending.oldest ? <p className="admin-section__lede">Oldest half waiting since {when.format(new Date(status.pending.oldest))}.</p> : null}

      <h3 className="ops-chart__title">Seldon Core feedback</h3>
      <p className="admin-section__lede">
        Seldon’s feedback messages (<code>truth</code> becomes a feedback label, <code>reward</code> a feedback event), with an ingest key:
      </p>
      <pre className="integration-url">{`${origin}${base(slug)}/integrations/seldon/feedback`}</pre>

      <h3 className="ops-chart__title">Label Studio</h3>
      <p className="admin-section__lede">
        Import a Label Studio JSON export of a choices project (predictions, answers by imported raters, and the labels of finished tasks; all or nothing, and a
        second import stores nothing twice), or take this project to Label Studio.
      </p>
      <div className="integration-actions">
        <label className="button button--secondary" data-testid="label-studio-import">
          {importing.isPending ? 'Importing…' : 'Import a Label Studio export…'}
          <input type="file" accept="application/json,.json" hidden disabled={importing.isPending} onChange={(event) => void importFile(event)} />
        </label>
        <a className="button button--secondary" href={`${base(slug)}/export/label-studio?labeled=${labeledOnly}`} download data-testid="label-studio-export">
          Download as Label Studio tasks
        </a>
        <label className="integration-check">
          <input type="checkbox" checked={labeledOnly} onChange={(event) => setLabeledOnly(event.target.checked)} /> only predictions with an answer or a label
        </label>
      </div>
      {imported ? (
        <p className="label-page__notice" data-testid="label-studio-imported">
          Imported {imported.tasks.toLocaleString()} tasks: {imported.predictions.accepted.toLocaleString()} new predictions (
          {imported.predictions.duplicates.toLocaleString()} already here), {imported.annotations.toLocaleString()} answers, {imported.labels.toLocaleString()}{' '}
          labels, {imported.raters.toLocaleString()} imported raters.
        </p>
      ) : null}
    </section>
  );
}
