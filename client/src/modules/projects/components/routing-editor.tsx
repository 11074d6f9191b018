import { useMemo, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useDebounce } from 'use-debounce';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RoutingBackfillReply, RoutingPolicy, RoutingPolicyBody } from '@backflow/contracts';
import { errorMessage } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import { backfillRouting, routingPreviewQuery, type Project } from '../api/projects-api';
import { projectScope } from '../../../lib/query';
import { useUpdateProject } from '../hooks/use-update-project';

const PREVIEW_DELAY_MS = 500;
const REASON_COLORS = { uncertain: '#0c6b66', exploration: '#c2661c', contradiction: '#a8261b' } as const;
const SLICES_SHOWN = 12;
// one click of the backfill button examines at most this many past predictions (1,000 a request)
const BACKFILL_PER_CLICK = 10_000;
// a rate per hour is only stated from a replay spanning an hour at least: a burst of seconds says nothing of an hour
const HOURLY_FROM_HOURS = 1;

type Mode = 'threshold' | 'rate';

interface Draft {
  strategy: RoutingPolicy['strategy'];
  mode: Mode;
  threshold: string;
  targetRate: string;
  explorationRate: string;
  perHour: string;
  perDay: string;
  perBatch: string;
  windowTasks: string;
  windowPredictions: string;
  dedupeWindowMinutes: string;
}

function draftOf(policy: RoutingPolicy | undefined): Draft {
  return {
    strategy: policy?.strategy ?? 'least_confidence',
    mode: policy?.targetRate !== undefined ? 'rate' : 'threshold',
    threshold: policy?.threshold !== undefined ? String(policy.threshold) : '',
    targetRate: policy?.targetRate !== undefined ? String(policy.targetRate * 100) : '2',
    explorationRate: String((policy?.explorationRate ?? 0.01) * 100),
    perHour: policy?.budget?.perHour !== undefined ? String(policy.budget.perHour) : '',
    perDay: policy?.budget?.perDay !== undefined ? String(policy.budget.perDay) : '',
    perBatch: policy?.budget?.perBatch !== undefined ? String(policy.budget.perBatch) : '',
    windowTasks: policy?.budget?.perPredictions ? String(policy.budget.perPredictions.tasks) : '',
    windowPredictions: policy?.budget?.perPredictions ? String(policy.budget.perPredictions.predictions) : '',
    dedupeWindowMinutes: String(policy?.dedupeWindowMinutes ?? 60),
  };
}

/** The policy the draft describes, keeping the settings this editor does not show (slice boosts, per-slice caps). */
function policyOf(draft: Draft, base: RoutingPolicy | undefined): RoutingPolicyBody {
  const number = (text: string) => (text.trim() === '' ? undefined : Number(text));
  const perHour = number(draft.perHour);
  const perDay = number(draft.perDay);
  const perBatch = number(draft.perBatch);
  const [tasks, predictions] = [number(draft.windowTasks), number(draft.windowPredictions)];
  const budget = {
    ...(base?.budget?.perSlice ? { perSlice: base.budget.perSlice } : {}),
    ...(perHour !== undefined ? { perHour } : {}),
    ...(perDay !== undefined ? { perDay } : {}),
    ...(perBatch !== undefined ? { perBatch } : {}),
    ...(tasks !== undefined && predictions !== undefined ? { perPredictions: { tasks, predictions } } : {}),
  };
  return {
    strategy: draft.strategy,
    ...(draft.mode === 'threshold'
      ? number(draft.threshold) !== undefined
        ? { threshold: number(draft.threshold) }
        : {}
      : { targetRate: (number(draft.targetRate) ?? 0) / 100 }),
    explorationRate: (number(draft.explorationRate) ?? 0) / 100,
    budget,
    contradictionConfidence: base?.contradictionConfidence,
    dedupeWindowMinutes: number(draft.dedupeWindowMinutes) ?? 0,
    sliceBoosts: base?.sliceBoosts ?? {},
  };
}

/** Which predictions become tasks: the policy, and what it would have routed over recent traffic, charted as you edit. */
export function RoutingEditor({ project }: { project: Project }) {
  const update = useUpdateProject(project.slug);
  const [draft, setDraft] = useState(() => draftOf(project.routing));
  const [status, setStatus] = useState<{ tone: 'error' | 'info'; message: string } | null>(null);
  const policy = useMemo(() => policyOf(draft, project.routing), [draft, project.routing]);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  // the preview follows the draft, a moment after the last keystroke; the last one stays on screen meanwhile
  const [previewed] = useDebounce(policy, PREVIEW_DELAY_MS);
  const previewReply = useQuery({ ...routingPreviewQuery(project.slug, { ...previewed, limit: 10_000 }), placeholderData: keepPreviousData });
  const preview = previewReply.data ?? null;
  const previewError = previewReply.isError ? errorMessage(previewReply.error, 'No preview.') : null;

  const save = () => {
    setStatus(null);
    update.mutate(
      { routing: policy },
      {
        onSuccess: () => setStatus({ tone: 'info', message: 'Saved: new predictions are routed by this policy.' }),
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'The policy could not be saved.') }),
      },
    );
  };

  const queryClient = useQueryClient();
  const saved = JSON.stringify(policyOf(draftOf(project.routing), project.routing)) === JSON.stringify(policy);
  const [backfillCursor, setBackfillCursor] = useState<string | null | undefined>(undefined);
  const [backfilled, setBackfilled] = useState<{ examined: number; routed: number; dropped: number } | null>(null);
  const backfill = useMutation({
    mutationFn: async () => {
      const total = { examined: 0, routed: 0, dropped: 0 };
      let cursor = backfillCursor ?? undefined;
      let reply: RoutingBackfillReply | undefined;
      do {
        reply = await backfillRouting(project.slug, { limit: 1_000, ...(cursor ? { cursor } : {}) });
        total.examined += reply.examined;
        total.routed += reply.routed.total;
        total.dropped += reply.droppedByBudget;
        cursor = reply.nextCursor ?? undefined;
        setBackfilled({ ...total });
      } while (cursor && total.examined < BACKFILL_PER_CLICK);
      return { total, next: reply.nextCursor };
    },
    onSuccess: ({ next }) => {
      setBackfillCursor(next);
      return queryClient.invalidateQueries({ queryKey: projectScope(project.slug) });
    },
  });

  const reasons = preview
    ? [{ name: 'routed', uncertain: preview.routed.uncertain, exploration: preview.routed.exploration, contradiction: preview.routed.contradiction }]
    : [];
  const slices = (preview?.bySlice ?? []).slice(0, SLICES_SHOWN);

  return (
    <section className="admin-section" aria-labelledby="routing-title" data-testid="routing-editor">
      <h2 id="routing-title">Routing</h2>
      <p className="admin-section__lede">
        Which predictions people label: the ones the model is least sure of, a random sample that keeps estimates honest, and contradictions from feedback.
      </p>
      {status ? (
        <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
          <p>{status.message}</p>
        </Alert>
      ) : null}
      <div className="admin-form__row">
        <label className="admin-form__select">
          Uncertainty score
          <select value={draft.strategy} onChange={(event) => set({ strategy: event.target.value as Draft['strategy'] })}>
            <option value="least_confidence">least confidence</option>
            <option value="margin">margin</option>
            <option value="entropy">entropy</option>
            <option value="max_entropy">max entropy (multi-label: its least sure label)</option>
            <option value="vote_entropy">vote entropy (a committee of models)</option>
            <option value="kl_divergence">disagreement with the committee (KL)</option>
          </select>
        </label>
        <label className="admin-form__select">
          Route by
          <select value={draft.mode} onChange={(event) => set({ mode: event.target.value as Mode })}>
            <option value="threshold">a fixed threshold</option>
            <option value="rate">a target rate</option>
          </select>
        </label>
        {draft.mode === 'threshold' ? (
          <TextField
            label="Threshold (0–1)"
            name="routingThreshold"
            type="number"
            min={0}
            max={1}
            step={0.05}
            hint="Empty: no uncertainty routing."
            value={draft.threshold}
            onChange={(event) => set({ threshold: event.target.value })}
          />
        ) : (
          <TextField
            label="Most uncertain (%)"
            name="routingRate"
            type="number"
            min={0.1}
            max={100}
            step={0.5}
            value={draft.targetRate}
            onChange={(event) => set({ targetRate: event.target.value })}
          />
        )}
      </div>
      <div className="admin-form__row">
        <TextField
          label="Exploration sample (%)"
          name="explorationRate"
          type="number"
          min={0}
          max={100}
          step={0.5}
          value={draft.explorationRate}
          onChange={(event) => set({ explorationRate: event.target.value })}
        />
        <TextField
          label="Same input once per (minutes)"
          name="dedupe"
          type="number"
          min={0}
          value={draft.dedupeWindowMinutes}
          onChange={(event) => set({ dedupeWindowMinutes: event.target.value })}
        />
      </div>
      <div className="admin-form__row">
        <TextField
          label="At most, per hour"
          name="perHour"
          type="number"
          min={0}
          hint="Empty: no cap."
          value={draft.perHour}
          onChange={(event) => set({ perHour: event.target.value })}
        />
        <TextField
          label="At most, per day"
          name="perDay"
          type="number"
          min={0}
          hint="Empty: no cap."
          value={draft.perDay}
          onChange={(event) => set({ perDay: event.target.value })}
        />
        <TextField
          label="At most, per request"
          name="perBatch"
          type="number"
          min={0}
          hint="A batch, a stream, a backfill page."
          value={draft.perBatch}
          onChange={(event) => set({ perBatch: event.target.value })}
        />
      </div>
      <div className="admin-form__row">
        <TextField
          label="At most this many tasks…"
          name="windowTasks"
          type="number"
          min={0}
          hint="Both empty: no cap."
          value={draft.windowTasks}
          onChange={(event) => set({ windowTasks: event.target.value })}
        />
        <TextField
          label="…per this many predictions"
          name="windowPredictions"
          type="number"
          min={1}
          hint="Counted as they arrive."
          value={draft.windowPredictions}
          onChange={(event) => set({ windowPredictions: event.target.value })}
        />
      </div>

      <div className="routing-preview" aria-live="polite" data-testid="routing-preview">
        {previewError ? <p className="admin-section__lede">{previewError}</p> : null}
        {preview && preview.sampled === 0 ? (
          <p className="admin-section__lede">No predictions yet: the preview replays the latest ones once there are some.</p>
        ) : null}
        {preview && preview.sampled > 0 ? (
          <>
            <dl className="ops-tiles">
              <div>
                <dt>Replayed</dt>
                <dd>{preview.sampled.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Would be routed</dt>
                <dd data-testid="preview-routed">{preview.routed.total.toLocaleString()}</dd>
              </div>
              {preview.hours >= HOURLY_FROM_HOURS ? (
                <div>
                  <dt>Tasks per hour, expected</dt>
                  <dd>{preview.expectedTasksPerHour.toFixed(preview.expectedTasksPerHour < 10 ? 1 : 0)}</dd>
                </div>
              ) : (
                <div>
                  <dt>Share routed</dt>
                  <dd data-testid="preview-share">{`${((preview.routed.total / preview.sampled) * 100).toFixed(1)}%`}</dd>
                </div>
              )}
              <div>
                <dt>Dropped by the budget</dt>
                <dd>{preview.droppedByBudget.toLocaleString()}</dd>
              </div>
            </dl>
            {preview.hours < HOURLY_FROM_HOURS ? (
              <p className="admin-section__lede" data-testid="preview-span">
                The replayed predictions arrived within {preview.hours * 60 < 1 ? 'less than a minute' : `${Math.round(preview.hours * 60)} minutes`}: too short
                to say how many tasks an hour would bring, so the share of predictions routed stands for it.
              </p>
            ) : null}
            <div className="ops-chart" role="img" aria-label="Predictions routed per reason">
              <h3 className="ops-chart__title">Per reason</h3>
              <ResponsiveContainer width="100%" height={90}>
                <BarChart data={reasons} layout="vertical" margin={{ top: 4, right: 16, bottom: 0, left: 0 }}>
                  <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
                  <YAxis type="category" dataKey="name" hide />
                  <Tooltip />
                  <Legend />
                  {(['uncertain', 'exploration', 'contradiction'] as const).map((reason) => (
                    <Bar key={reason} dataKey={reason} stackId="r" fill={REASON_COLORS[reason]} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
            {slices.length ? (
              <div className="ops-chart" role="img" aria-label="Predictions routed per slice">
                <h3 className="ops-chart__title">Per slice (the {slices.length} with most routed)</h3>
                <ResponsiveContainer width="100%" height={Math.max(140, slices.length * 26)}>
                  <BarChart
                    data={slices.map((s) => ({ ...s, slice: s.slice || '(no slice)' }))}
                    layout="vertical"
                    margin={{ top: 4, right: 16, bottom: 0, left: 8 }}
                  >
                    <CartesianGrid stroke="#e4ded3" horizontal={false} />
                    <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
                    <YAxis type="category" dataKey="slice" width={180} interval={0} tick={{ fontSize: 12 }} />
                    <Tooltip />
                    <Legend />
                    {(['uncertain', 'exploration', 'contradiction'] as const).map((reason) => (
                      <Bar key={reason} dataKey={reason} stackId="s" fill={REASON_COLORS[reason]} isAnimationActive={false} />
                    ))}
                  </BarChart>
                </ResponsiveContainer>
              </div>
            ) : null}
          </>
        ) : null}
      </div>

      <div className="admin-form__actions">
        <Button onClick={save} busy={update.isPending}>
          Save routing
        </Button>
        <Button
          variant="secondary"
          onClick={() => backfill.mutate()}
          busy={backfill.isPending}
          disabled={!saved || backfillCursor === null}
          data-testid="backfill"
          title={saved ? undefined : 'Save the policy first: past predictions are routed by the saved one'}
        >
          {backfillCursor ? 'Route older predictions' : 'Route past predictions'}
        </Button>
      </div>
      <p className="admin-section__lede" aria-live="polite" data-testid="backfill-status">
        {!saved
          ? 'Save the policy to route past predictions by it.'
          : backfilled
            ? `${backfill.isPending ? 'Routing past predictions: ' : ''}${backfilled.examined.toLocaleString()} examined, ${backfilled.routed.toLocaleString()} routed` +
              `${backfilled.dropped ? `, ${backfilled.dropped.toLocaleString()} left out by the budget` : ''}` +
              `${backfill.isPending ? '…' : backfillCursor === null ? '; none older is left without a task.' : '.'}`
            : `Routing applies to new predictions; “Route past predictions” sends the ${BACKFILL_PER_CLICK.toLocaleString()} newest without a task through the saved policy, within its budget.`}
      </p>
      {backfill.error ? <Alert>{errorMessage(backfill.error, 'The backfill failed.')}</Alert> : null}
    </section>
  );
}
