import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ExportJob } from '@backflow/contracts';
import { errorMessage } from '../../lib/api';
import { errorHeadingOf } from '../../lib/error-headings';
import { useExportProgress } from '../../lib/socket';
import { Alert } from '../../ui/alert';
import { Button } from '../../ui/button';
import { exportJobQuery, exportsBase as base, spansQuery, startExport } from './api/exports-api';
import './exports-panel.css';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const POLL_MS = 1_000;

/** Spans written so far, their files to download, and an export started here with its progress live. */
export function ExportsPanel({ slug }: { slug: string }) {
  const queryClient = useQueryClient();
  const spansReply = useQuery(spansQuery(slug));
  const spans = spansReply.data ?? null;
  const [job, setJob] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  // the server pushes progress to admins' sockets; a poll every second while it writes covers a socket that is not there
  const jobKey = exportJobQuery(slug, job ?? '').queryKey;
  const runningReply = useQuery({
    ...exportJobQuery(slug, job ?? ''),
    enabled: job !== null,
    refetchInterval: (query) => (query.state.data?.state === 'writing' ? POLL_MS : false),
  });
  const running = job !== null ? (runningReply.data ?? null) : null;
  useExportProgress(job ?? undefined, (progress) =>
    queryClient.setQueryData<ExportJob>(jobKey, (current) => current && { ...current, rowsWritten: progress.rowsWritten, state: progress.state }),
  );

  const state = running?.state;
  useEffect(() => {
    if (state === 'completed' || state === 'failed') void queryClient.invalidateQueries({ queryKey: spansQuery(slug).queryKey });
  }, [state, slug, queryClient]);

  const start = useMutation({
    mutationFn: () => startExport(slug),
    onMutate: () => setNotice(null),
    onSuccess: (started) => {
      if (!started.job) setNotice('Nothing to export: every label is in a span already.');
      else queryClient.setQueryData(exportJobQuery(slug, started.job.id).queryKey, started.job);
      setJob(started.job?.id ?? null);
    },
  });
  const failure = start.error ?? spansReply.error;
  const error = failure ? errorMessage(failure, failure === start.error ? 'The export could not start.' : 'Spans could not be loaded.') : null;

  const percent = running && running.rows ? Math.round((running.rowsWritten / running.rows) * 100) : 0;

  return (
    <section className="admin-section" aria-labelledby="exports-title" data-testid="exports-panel">
      <div className="admin-section__head">
        <h2 id="exports-title">Exports</h2>
        <Button onClick={() => start.mutate()} disabled={running?.state === 'writing'}>
          Export new labels
        </Button>
      </div>
      <p className="admin-section__lede">
        Each export writes the labels not yet exported as the next span, for TFX ExampleGen: TFRecord, CSV, JSONL or Parquet, as the project's export settings
        say.
      </p>
      {error ? (
        <Alert title={errorHeadingOf(failure)}>
          <p>{error}</p>
        </Alert>
      ) : null}
      {notice ? <p className="label-page__notice">{notice}</p> : null}
      {running ? (
        <div className="export-progress" data-testid="export-progress">
          <p>
            Span {running.span}, version {running.version}:{' '}
            {running.state === 'completed' ? 'completed' : running.state === 'failed' ? `failed: ${running.error ?? ''}` : 'writing'} (
            {running.rowsWritten.toLocaleString()} of {running.rows.toLocaleString()} rows)
          </p>
          <progress max={running.rows || 1} value={running.rowsWritten} aria-label="Rows written">
            {percent}%
          </progress>
          {running.warnings?.length ? (
            <Alert>
              <p>Some stored values could not be written as they are (left out, and counted in the manifest):</p>
              <ul data-testid="export-warnings">
                {running.warnings.map((warning) => (
                  <li key={warning}>{warning}</li>
                ))}
              </ul>
            </Alert>
          ) : null}
        </div>
      ) : null}
      {spans === null ? (
        <p>Loading spans…</p>
      ) : spans.length === 0 ? (
        <p className="admin-section__lede">No span yet.</p>
      ) : (
        <table className="admin-table" data-testid="spans-table">
          <thead>
            <tr>
              <th scope="col">Span</th>
              <th scope="col">Rows</th>
              <th scope="col">Labels from</th>
              <th scope="col">Versions and files</th>
            </tr>
          </thead>
          <tbody>
            {spans.map((span) => (
              <tr key={span.span}>
                <td>{span.span}</td>
                <td>{span.rows.toLocaleString()}</td>
                <td>{span.labelFrom ? when.format(new Date(span.labelFrom)) : '—'}</td>
                <td>
                  {/* a finished version's files in plain sight: each link names its split (the saved file's name keeps it too) */}
                  {span.versions.map((version) => (
                    <div key={version.version} className="export-version" data-testid="export-version">
                      <p className="export-version__state">
                        version {version.version}: {version.state}
                        {version.state === 'completed' ? `, ${filesSummary(version.files)}` : ''}
                      </p>
                      {version.state === 'completed' ? (
                        <ul className="export-files" aria-label={`Span ${span.span}, version ${version.version}: files`}>
                          {version.files.map((file) => (
                            <li key={file.path}>
                              <a href={`${base(slug)}/spans/${span.span}/versions/${version.version}/files/${file.path}`}>{file.path}</a> (
                              {file.rows.toLocaleString()} {file.rows === 1 ? 'row' : 'rows'})
                            </li>
                          ))}
                          {['schema.pbtxt', 'manifest.json'].map((name) => (
                            <li key={name}>
                              <a href={`${base(slug)}/spans/${span.span}/versions/${version.version}/files/${name}`}>{name}</a>
                            </li>
                          ))}
                        </ul>
                      ) : null}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** "2 files", and TFDV's statistics and anomalies when the version has them (listed below with the data). */
function filesSummary(files: ReadonlyArray<{ format: string }>): string {
  const data = files.filter((f) => f.format !== 'statistics' && f.format !== 'anomalies').length;
  const tfdv = [files.some((f) => f.format === 'statistics') && 'statistics', files.some((f) => f.format === 'anomalies') && 'anomalies'].filter(Boolean);
  return `${data} file${data === 1 ? '' : 's'}${tfdv.length ? `, TFDV ${tfdv.join(' and ')}` : ''}`;
}
