import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { RetentionReply } from '@backflow/contracts';
import { apiRequest, errorMessage } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import type { Project } from '../api/projects-api';
import { useUpdateProject } from '../hooks/use-update-project';

const runRetention = (slug: string) => apiRequest<RetentionReply>(`/api/v1/projects/${encodeURIComponent(slug)}/retention/run`, { method: 'POST', body: {} });

/** How long raw predictions are kept: blank keeps every one; a number of days removes older ones nothing needs, archived first when asked. */
export function RetentionEditor({ project }: { project: Project }) {
  const update = useUpdateProject(project.slug);
  const [days, setDays] = useState(project.retention ? String(project.retention.days) : '');
  const [archive, setArchive] = useState(project.retention?.archive ?? false);
  const [status, setStatus] = useState<{ tone: 'error' | 'info'; message: string } | null>(null);
  const run = useMutation({
    mutationFn: () => runRetention(project.slug),
    onSuccess: (reply) =>
      setStatus({
        tone: 'info',
        message: `Removed ${reply.dropped.toLocaleString()} predictions (${reply.archived.toLocaleString()} archived in ${reply.files.length} files); kept ${reply.kept.toLocaleString()} old ones a task, label or feedback still needs${reply.deferred ? `; ${reply.deferred} partitions left for the next run` : ''}.`,
      }),
    onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'Retention could not run.') }),
  });
  const save = () => {
    setStatus(null);
    const retention = days.trim() === '' ? null : { days: Number(days), archive };
    update.mutate(
      { retention },
      {
        onSuccess: () =>
          setStatus({
            tone: 'info',
            message: retention ? `Saved: predictions older than ${retention.days} days may go, hourly.` : 'Saved: every prediction is kept.',
          }),
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'Retention could not be saved.') }),
      },
    );
  };
  return (
    <section className="admin-section" aria-labelledby="retention-title" data-testid="retention">
      <h2 id="retention-title">Retention</h2>
      <p className="admin-section__lede">
        Raw predictions older than this many days go, whole days at a time, every hour, unless a task, a label or feedback still needs them (those stay with
        everything they carry). Leave it blank to keep every prediction. With the archive, what goes is written first as Parquet, a folder a day.
      </p>
      {status ? (
        <Alert tone={status.tone} title={status.tone === 'error' ? 'Not done' : undefined}>
          <p>{status.message}</p>
        </Alert>
      ) : null}
      <div className="admin-form__row">
        <TextField
          label="Keep predictions for (days)"
          name="retentionDays"
          type="number"
          min={1}
          max={3650}
          hint="Blank: keep all."
          value={days}
          onChange={(e) => setDays(e.target.value)}
        />
        <label className="admin-form__check">
          <input type="checkbox" name="retentionArchive" checked={archive} disabled={days.trim() === ''} onChange={(e) => setArchive(e.target.checked)} />{' '}
          Archive what goes (Parquet)
        </label>
      </div>
      <div className="admin-form__actions">
        <Button onClick={save} busy={update.isPending}>
          Save retention
        </Button>
        <Button variant="secondary" onClick={() => run.mutate()} busy={run.isPending} disabled={!project.retention}>
          Run now
        </Button>
      </div>
      {!project.retention && <p className="field__hint">Run now works once a retention is saved: while every prediction is kept there is nothing to remove.</p>}
    </section>
  );
}
