import { useEffect, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorMessage } from '../lib/api';
import { useSignedInSession } from '../modules/auth/hooks/use-session';
import {
  clicksQuery,
  evaluateNow,
  feedbackSignalsQuery,
  monitoringQuery,
  monitoringScope,
  preferencesQuery,
  qualityQuery,
} from '../modules/monitoring/api/monitoring-api';
import { projectQuery } from '../modules/projects/api/projects-api';
import { AccuracyPanel } from '../modules/monitoring/components/accuracy-panel';
import { AgreementPanel } from '../modules/monitoring/components/agreement-panel';
import { AlertsPanel } from '../modules/monitoring/components/alerts-panel';
import { ClicksPanel } from '../modules/monitoring/components/clicks-panel';
import { DriftPanel } from '../modules/monitoring/components/drift-panel';
import { SkewPanel } from '../modules/monitoring/components/skew-panel';
import { FeedbackSignalsPanel } from '../modules/monitoring/components/feedback-signals-panel';
import { PreferencesPanel } from '../modules/monitoring/components/preferences-panel';
import { QuestionAgreementPanel } from '../modules/monitoring/components/question-agreement-panel';
import { QuestionMetricsPanel } from '../modules/monitoring/components/question-metrics-panel';
import { Alert } from '../ui/alert';
import { Button } from '../ui/button';
import { PageShell } from '../ui/page-shell';
import './admin-pages.css';

export interface QualityPageProps {
  slug: string;
}

const REFRESH_MS = 60_000;

/** How the model and the raters are doing: accuracy per slice, drift, alerts, agreement. */
export function QualityPage({ slug }: QualityPageProps) {
  const session = useSignedInSession();
  const queryClient = useQueryClient();
  const [hours, setHours] = useState(48);
  // a new range keeps the charts of the last one on screen until its figures come
  const live = { refetchInterval: REFRESH_MS, placeholderData: keepPreviousData };
  const monitoring = useQuery({ ...monitoringQuery(slug, hours), ...live });
  const quality = useQuery({ ...qualityQuery(slug, Math.max(1, Math.ceil(hours / 24))), ...live });
  const project = useQuery(projectQuery(slug)).data;
  const name = project?.name ?? slug;
  const routing = project?.questions.find((q) => q.name === project.routingQuestion);
  // a recommender's clicks: four weeks, whatever the range (a drop is judged against its own start)
  const clicks = useQuery({ ...clicksQuery(slug, 28), ...live, enabled: routing?.kind === 'ranking' });
  // a generative project's preferences between responses: the versions ranked over four weeks
  const preference = project?.questions.find((q) => q.kind === 'preference');
  const preferences = useQuery({ ...preferencesQuery(slug, preference?.name ?? '', 28), ...live, enabled: preference !== undefined });
  // what users did with each version's predictions, over the range (a week at least)
  const signals = useQuery({ ...feedbackSignalsQuery(slug, Math.max(7, Math.ceil(hours / 24))), ...live });
  const [evaluated, setEvaluated] = useState<string | null>(null);

  const evaluation = useMutation({
    mutationFn: () => evaluateNow(slug),
    onSuccess: (reply) => {
      setEvaluated(reply.raised.length ? `${reply.raised.length} new ${reply.raised.length === 1 ? 'alert' : 'alerts'}` : `nothing new; ${reply.open} open`);
      return queryClient.invalidateQueries({ queryKey: monitoringScope(slug) });
    },
  });
  const evaluating = evaluation.isPending;

  // a failed evaluation is told until the figures next load
  const evaluationError = evaluation.isError && evaluation.submittedAt > monitoring.dataUpdatedAt ? evaluation.error : null;
  const failure = evaluationError ?? monitoring.error ?? quality.error;
  const error = failure ? errorMessage(failure, failure === evaluationError ? 'The evaluation failed.' : 'Quality and monitoring could not be loaded.') : null;

  useEffect(() => {
    document.title = `${name} quality · Backflow`;
  }, [name]);

  return (
    <PageShell className="admin-page" back>
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
            <Button variant="secondary" onClick={() => evaluation.mutate()} disabled={evaluating} data-testid="evaluate">
              {evaluating ? 'Evaluating…' : 'Evaluate now'}
            </Button>
          ) : null}
        </div>
      </div>
      {evaluated ? <Alert tone="info">Evaluated: {evaluated}.</Alert> : null}
      {error ? <Alert>{error}</Alert> : null}
      {monitoring.data ? (
        <>
          <AlertsPanel data={monitoring.data} />
          {/* a label routing question is measured by accuracy; another kind by its own figures */}
          {(routing ? routing.kind !== 'label' : monitoring.data.accuracy.some((r) => r.metrics)) ? (
            <QuestionMetricsPanel data={monitoring.data} question={routing} />
          ) : (
            <AccuracyPanel data={monitoring.data} />
          )}
          {clicks.data ? <ClicksPanel report={clicks.data} /> : null}
          {preferences.data ? <PreferencesPanel report={preferences.data} /> : null}
          {signals.data && signals.data.types.length > 0 ? <FeedbackSignalsPanel report={signals.data} /> : null}
          <DriftPanel data={monitoring.data} />
          <SkewPanel data={monitoring.data} slug={slug} />
        </>
      ) : !error ? (
        <p className="admin-section__lede">Loading…</p>
      ) : null}
      {quality.data ? <AgreementPanel data={quality.data} /> : null}
      {quality.data && (quality.data.questions.length > 1 || quality.data.questions.some((q) => q.kind !== 'label')) ? (
        <QuestionAgreementPanel data={quality.data} />
      ) : null}
    </PageShell>
  );
}
