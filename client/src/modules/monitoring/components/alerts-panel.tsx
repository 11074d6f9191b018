import type { MonitoringReply } from '@backflow/contracts';
import { Badge } from '../../../ui/badge';
import { METRIC_NAMES } from './format';

/** What an alert is about: its kind, or for the model's quality on a question that is not a label one, the figure it watches. */
function subjectOf(a: MonitoringReply['alerts'][number]): string {
  if (a.kind === 'ctr') return 'click-through';
  if (a.kind === 'skew') return 'training–serving skew';
  if (a.kind !== 'accuracy' || !a.metric || a.metric === 'accuracy') return a.kind;
  return a.metric === 'win_rate' ? 'preference' : METRIC_NAMES[a.metric];
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Alerts (open first) and the slice boosts they hold on routing. */
export function AlertsPanel({ data }: { data: MonitoringReply }) {
  // several alerts may boost one slice: routing multiplies their factors (up to 100)
  const bySlice = new Map<string, { factor: number; until: string }>();
  for (const b of data.boosts) {
    const seen = bySlice.get(b.slice);
    bySlice.set(b.slice, { factor: Math.min(100, (seen?.factor ?? 1) * b.factor), until: seen && seen.until > b.until ? seen.until : b.until });
  }
  const alerts = [...data.alerts].sort((a, b) => Number(a.resolvedAt !== null) - Number(b.resolvedAt !== null) || b.createdAt.localeCompare(a.createdAt));
  return (
    <section className="admin-section" aria-labelledby="alerts-title" data-testid="alerts-panel">
      <div className="admin-section__head">
        <h2 id="alerts-title">Alerts</h2>
        {bySlice.size ? (
          <p className="admin-section__lede" data-testid="boosts">
            Routing leans toward{' '}
            {[...bySlice].map(([slice, b], i) => (
              <span key={slice}>
                {i ? ', ' : ''}
                <strong>{slice}</strong> ×{Math.round(b.factor)} until {when.format(new Date(b.until))}
              </span>
            ))}
          </p>
        ) : null}
      </div>
      {alerts.length === 0 ? (
        <p className="admin-section__lede">
          {data.anomalies.examined === 0
            ? 'No alerts, and nothing to judge yet: no prediction arrived in the current window. Send predictions and they are watched from the first.'
            : 'No alerts: every slice is within its baseline and no feature has drifted.'}
        </p>
      ) : (
        <ul className="alert-list">
          {alerts.slice(0, 20).map((a) => (
            <li key={a.id} className={a.resolvedAt ? 'alert-list__item alert-list__item--resolved' : 'alert-list__item'}>
              <Badge tone={a.resolvedAt ? 'neutral' : a.kind === 'accuracy' || a.kind === 'ctr' ? 'amber' : 'ink'} data-metric={a.metric ?? undefined}>
                {a.resolvedAt ? 'resolved' : subjectOf(a)}
              </Badge>
              <span>
                {a.message}
                {a.anomalyType ? (
                  <>
                    {' '}
                    <code className="alert-list__type">{a.anomalyType}</code>
                  </>
                ) : null}
              </span>
              <time dateTime={a.createdAt}>{when.format(new Date(a.createdAt))}</time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
