import { useCallback, useEffect, useState } from 'react';
import type { MonitoringReply, QualityReply } from '@backflow/contracts';
import { errorMessage } from '../lib/api';
import type { Session } from '../modules/auth/api/session-api';
import { evaluateNow, fetchMonitoring, fetchQuality } from '../modules/monitoring/api/monitoring-api';
import { fetchProject } from '../modules/projects/api/projects-api';
import { AccuracyPanel } from '../modules/monitoring/components/accuracy-panel';
import { AgreementPanel } from '../modules/monitoring/components/agreement-panel';
import { AlertsPanel } from '../modules/monitoring/components/alerts-panel';
import { DriftPanel } from '../modules/monitoring/components/drift-panel';
import { Alert } from '../ui/alert';
import { Button } from '../ui/button';
import { PageShell } from '../ui/page-shell';
import './admin-pages.css';

export interface QualityPageProps {
  slug: string;
  session: Session;
  onSignOut: () => Promise<void>;
}

const REFRESH_MS = 60_000;

/** How the model and the raters are doing: accuracy per slice, drift, alerts, agreement. */
export function QualityPage({ slug, session, onSignOut }: QualityPageProps) {
  const [hours, setHours] = useState(48);
  const [monitoring, setMonitoring] = useState<MonitoringReply | null>(null);
  const [quality, setQuality] = useState<QualityReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [evaluating, setEvaluating] = useState(false);
  const [evaluated, setEvaluated] = useState<string | null>(null);
  const [name, setName] = useState(slug);

  useEffect(() => {
    fetchProject(slug).then(
      (project) => setName(project.name),
      () => undefined,
    );
  }, [slug]);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const [m, q] = await Promise.all([fetchMonitoring(slug, hours, signal), fetchQuality(slug, Math.max(1, Math.ceil(hours / 24)), signal)]);
        setMonitoring(m);
        setQuality(q);
        setError(null);
      } catch (cause) {
        if (!signal?.aborted) setError(errorMessage(cause, 'Quality and monitoring could not be loaded.'));
      }
    },
    [slug, hours],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    const timer = window.setInterval(() => void load(controller.signal), REFRESH_MS);
    return () => {
      controller.abort();
      window.clearInterval(timer);
    };
  }, [load]);

  useEffect(() => {
    document.title = `${name} quality · Backflow`;
  }, [name]);

  const evaluate = async () => {
    setEvaluating(true);
    try {
      const reply = await evaluateNow(slug);
      setEvaluated(reply.raised.length ? `${reply.raised.length} new ${reply.raised.length === 1 ? 'alert' : 'alerts'}` : `nothing new; ${reply.open} open`);
      await load();
    } catch (cause) {
      setError(errorMessage(cause, 'The evaluation failed.'));
    } finally {
      setEvaluating(false);
    }
  };

  return (
    <PageShell session={session} onSignOut={onSignOut} className="admin-page" back>
      <div className="admin-page__head">
        <h1 className="admin-page__title">{name}: quality and monitoring</h1>
        <div className="admin-page__actions">
          <label className="admin-section__control">
            Range{' '}
            <select value={hours} onChange={(event) => setHours(Number(event.target.value))} data-testid="range">
              <option value={24}>24 hours</option>
              <option value={48}>2 days</option>
              <option value={168}>7 days</option>
              <option value={720}>30 days</option>
            </select>
          </label>
          {session.user.role === 'admin' ? (
            <Button variant="secondary" onClick={() => void evaluate()} disabled={evaluating} data-testid="evaluate">
              {evaluating ? 'Evaluating…' : 'Evaluate now'}
            </Button>
          ) : null}
        </div>
      </div>
      {evaluated ? <Alert tone="info">Evaluated: {evaluated}.</Alert> : null}
      {error ? <Alert>{error}</Alert> : null}
      {monitoring ? (
        <>
          <AlertsPanel data={monitoring} />
          <AccuracyPanel data={monitoring} />
          <DriftPanel data={monitoring} />
        </>
      ) : !error ? (
        <p className="admin-section__lede">Loading…</p>
      ) : null}
      {quality ? <AgreementPanel data={quality} /> : null}
    </PageShell>
  );
}
