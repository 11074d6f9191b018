import { useCallback, useEffect, useState } from 'react';
import { io } from 'socket.io-client';
import type { ExportJob, ExportProgress, ExportStarted, SpanList } from '@backflow/contracts';
import { apiRequest, errorMessage } from '../../lib/api';
import { Alert } from '../../ui/alert';
import { Button } from '../../ui/button';

const base = (slug: string) => `/api/v1/projects/${encodeURIComponent(slug)}`;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Spans written so far, their files to download, and an export started here with its progress live. */
export function ExportsPanel({ slug }: { slug: string }) {
  const [spans, setSpans] = useState<SpanList['spans'] | null>(null);
  const [running, setRunning] = useState<ExportJob | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setSpans((await apiRequest<SpanList>(`${base(slug)}/spans`)).spans);
    } catch (cause) {
      setError(errorMessage(cause, 'Spans could not be loaded.'));
    }
  }, [slug]);

  useEffect(() => {
    void reload();
  }, [reload]);

  // the server pushes progress to admins' sockets; a poll every second covers a socket that is not there
  const job = running?.job;
  useEffect(() => {
    if (!job) return;
    const socket = io('/labeling', { transports: ['websocket'], withCredentials: true });
    const update = (next: Partial<ExportJob>) => setRunning((current) => (current && current.job === job ? { ...current, ...next } : current));
    socket.on('export:progress', (progress: ExportProgress) => {
      if (progress.job === job) update({ rowsWritten: progress.rowsWritten, state: progress.state });
    });
    const timer = window.setInterval(() => {
      apiRequest<ExportJob>(`${base(slug)}/exports/${job}`)
        .then((current) => update(current))
        .catch(() => undefined);
    }, 1_000);
    return () => {
      window.clearInterval(timer);
      socket.close();
    };
  }, [slug, job]);

  const state = running?.state;
  useEffect(() => {
    if (state === 'completed' || state === 'failed') void reload();
  }, [state, reload]);

  const start = async () => {
    setError(null);
    setNotice(null);
    try {
      const started = await apiRequest<ExportStarted>(`${base(slug)}/exports`, { method: 'POST', body: {} });
      if (!started.job) setNotice('Nothing to export: every label is in a span already.');
      setRunning(started.job);
    } catch (cause) {
      setError(errorMessage(cause, 'The export could not start.'));
    }
  };

  const percent = running && running.rows ? Math.round((running.rowsWritten / running.rows) * 100) : 0;

  return (
    <section className="admin-section" aria-labelledby="exports-title" data-testid="exports-panel">
      <div className="admin-section__head">
        <h2 id="exports-title">Exports</h2>
        <Button onClick={() => void start()} disabled={running?.state === 'writing'}>
          Export new labels
        </Button>
      </div>
      <p className="admin-section__lede">
        Each export writes the labels not yet exported as the next span, for TFX ExampleGen: TFRecord, CSV, JSONL or Parquet, as the project's export settings
        say.
      </p>
      {error ? (
        <Alert title="Something went wrong">
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
                  {span.versions.map((version) => (
                    <details key={version.version}>
                      <summary>
                        version {version.version}: {version.state}
                        {version.state === 'completed' ? `, ${version.files.length} files` : ''}
                      </summary>
                      <ul className="export-files">
                        {version.files.map((file) => (
                          <li key={file.path}>
                            <a href={`${base(slug)}/spans/${span.span}/versions/${version.version}/files/${file.path}`}>{file.path}</a> (
                            {file.rows.toLocaleString()} rows)
                          </li>
                        ))}
                        {version.state === 'completed' ? (
                          <li>
                            <a href={`${base(slug)}/spans/${span.span}/versions/${version.version}/files/manifest.json`}>manifest.json</a>
                          </li>
                        ) : null}
                      </ul>
                    </details>
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
