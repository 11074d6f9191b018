import { useState, type FormEvent } from 'react';
import { MonitoringSettings } from '@backflow/contracts';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import type { Project } from '../api/projects-api';
import { numberIssue, percentText, useSettingsGroup, type NumberRule } from './settings-group';

const NUMBERS = {
  windowHours: { label: 'Current window (hours)', hint: 'The current window that alerts judge.', min: 1, max: 720, integer: true },
  baselineDays: { label: 'Baseline (days)', hint: 'The reference window just before it.', min: 1, max: 90, integer: true },
  minLabels: { label: 'Minimum labels', hint: 'Labels a slice needs in each window before its accuracy is judged.', min: 5, max: 100_000, integer: true },
  accuracyMargin: {
    label: 'Accuracy margin (%)',
    hint: 'Alert when a slice’s accuracy (or, for another kind of routing question, its F1, within-one or exact accuracy) falls at least this far below its baseline…',
    min: 0,
    max: 100,
    percent: true,
  },
  maeRise: {
    label: 'MAE rise (%)',
    hint: '…or, for a numeric routing question, when its MAE rises at least this share above its baseline…',
    min: 0,
    max: 10_000,
    above: true,
    percent: true,
  },
  significance: { label: 'Significance level', hint: '…and a one-sided test says the fall is not chance at this level.', min: 0, max: 0.5, above: true },
  numericThreshold: {
    label: 'Numeric drift threshold (JS, bits)',
    hint: 'Jensen-Shannon divergence above which a numeric feature has drifted.',
    min: 0,
    max: 1,
  },
  categoricalThreshold: {
    label: 'Categorical drift threshold (L∞)',
    hint: 'L-infinity distance above which a categorical feature has drifted.',
    min: 0,
    max: 1,
  },
  driftMinCount: { label: 'Drift minimum count', hint: 'Predictions each window needs before drift is judged.', min: 10, max: 100_000, integer: true },
  anomalyRate: {
    label: 'Anomaly rate (%)',
    hint: 'Alert when more than this share of the window’s predictions has one kind of anomaly on a feature (without an uploaded schema.pbtxt: with one, TFDV’s checks against it raise schema skew alerts instead).',
    min: 0,
    max: 100,
    percent: true,
  },
  featureDiffRate: {
    label: 'Feature skew rate (%)',
    hint: 'Alert when a feature differs (mismatched, or on one side only) in more than this share of the examples found in both training data and serving traffic.',
    min: 0,
    max: 100,
    percent: true,
  },
  minPairs: {
    label: 'Feature skew minimum pairs',
    hint: 'Examples in both a feature (or a slice) needs before its feature skew is judged.',
    min: 1,
    max: 100_000,
    integer: true,
  },
  boostFactor: { label: 'Boost factor', hint: 'An alert on a slice multiplies its routing boost by this.', min: 1, max: 100, above: true },
  boostHours: { label: 'Boost length (hours)', hint: 'How long the boost lasts.', min: 1, max: 720, integer: true },
} satisfies Record<string, NumberRule>;
type NumberKey = keyof typeof NUMBERS;
const RULES: Record<NumberKey, NumberRule> = NUMBERS;
type Draft = Record<NumberKey | 'webhookUrl' | 'webhookSecret', string>;

const ROWS: Array<{ title: string; keys: NumberKey[] }> = [
  { title: 'Windows', keys: ['windowHours', 'baselineDays', 'minLabels'] },
  { title: 'Model quality', keys: ['accuracyMargin', 'maeRise', 'significance'] },
  { title: 'Drift', keys: ['numericThreshold', 'categoricalThreshold', 'driftMinCount'] },
  { title: 'Anomalies and training–serving skew', keys: ['anomalyRate', 'featureDiffRate', 'minPairs'] },
  { title: 'Routing boost', keys: ['boostFactor', 'boostHours'] },
];

const percent = percentText;

function draftOf(settings: MonitoringSettings): Draft {
  return {
    windowHours: String(settings.windowHours),
    baselineDays: String(settings.baselineDays),
    minLabels: String(settings.minLabels),
    accuracyMargin: percent(settings.accuracyMargin),
    maeRise: percent(settings.maeRise),
    significance: String(settings.significance),
    numericThreshold: String(settings.drift.numericThreshold),
    categoricalThreshold: String(settings.drift.categoricalThreshold),
    driftMinCount: String(settings.drift.minCount),
    anomalyRate: percent(settings.anomalyRate),
    featureDiffRate: percent(settings.skew.featureDiffRate),
    minPairs: String(settings.skew.minPairs),
    boostFactor: String(settings.boost.factor),
    boostHours: String(settings.boost.hours),
    webhookUrl: settings.webhook?.url ?? '',
    webhookSecret: '',
  };
}

/** What is wrong with a number typed in a field, naming the field; nothing when the setting takes it. */

function isWebAddress(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

function webhookIssues(draft: Draft, hasSecret: boolean): Partial<Draft> {
  const url = draft.webhookUrl.trim();
  const secret = draft.webhookSecret;
  if (url === '') return secret ? { webhookUrl: 'Alert webhook URL is required with a secret (or clear the secret).' } : {};
  const issues: Partial<Draft> = {};
  if (!isWebAddress(url)) issues.webhookUrl = 'Alert webhook URL must be an http:// or https:// address.';
  if (secret ? secret.length < 16 || secret.length > 200 : !hasSecret) issues.webhookSecret = 'Alert webhook secret must be 16 to 200 characters.';
  return issues;
}

/** The whole group, as the PATCH replaces it: per-feature drift thresholds and drift slice keys, not shown here, are kept as they are. */
function settingsOf(draft: Draft, current: MonitoringSettings): MonitoringSettings {
  const number = (key: NumberKey) => Number(draft[key]) / (RULES[key].percent ? 100 : 1);
  const url = draft.webhookUrl.trim();
  const secret = draft.webhookSecret || current.webhook?.secret;
  const { webhook: _webhook, ...kept } = current;
  return {
    ...kept,
    windowHours: number('windowHours'),
    baselineDays: number('baselineDays'),
    minLabels: number('minLabels'),
    accuracyMargin: number('accuracyMargin'),
    maeRise: number('maeRise'),
    significance: number('significance'),
    drift: {
      ...current.drift,
      numericThreshold: number('numericThreshold'),
      categoricalThreshold: number('categoricalThreshold'),
      minCount: number('driftMinCount'),
    },
    anomalyRate: number('anomalyRate'),
    skew: { featureDiffRate: number('featureDiffRate'), minPairs: number('minPairs') },
    boost: { factor: number('boostFactor'), hours: number('boostHours') },
    ...(url && secret ? { webhook: { url, secret } } : {}),
  };
}

/**
 * When monitoring raises an alert (`monitoring`): the windows it compares, the thresholds of model quality,
 * drift, anomalies and skew, the routing boost an alert gives its slice, and where alerts are POSTed.
 * Only what was edited here is taken from the form; the rest is sent as the project has it.
 */
export function MonitoringSettingsEditor({ project }: { project: Project }) {
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const [errors, setErrors] = useState<Partial<Draft>>({});
  const {
    save: saveGroup,
    status,
    pending,
  } = useSettingsGroup(project.slug, 'monitoring', MonitoringSettings, {
    saved: 'Saved: the next evaluation judges by these settings.',
    failed: 'The monitoring settings could not be saved.',
  });
  const monitoring = project.monitoring;

  if (!monitoring)
    return (
      <section className="admin-section" aria-labelledby="monitoring-settings-title" data-testid="monitoring-settings">
        <h2 id="monitoring-settings-title">Monitoring and alerts</h2>
        <p className="admin-section__lede">Only a project admin sees and changes the monitoring settings.</p>
      </section>
    );

  const draft: Draft = { ...draftOf(monitoring), ...edits };
  const hasSecret = Boolean(monitoring.webhook?.secret);
  const set = (key: keyof Draft, value: string) => {
    setEdits((current) => ({ ...current, [key]: value }));
    setErrors(({ [key]: _cleared, ...rest }) => rest);
  };

  const save = (event: FormEvent) => {
    event.preventDefault();
    const found: Partial<Draft> = {};
    for (const key of Object.keys(NUMBERS) as NumberKey[]) {
      const issue = numberIssue(draft[key], RULES[key]);
      if (issue) found[key] = issue;
    }
    Object.assign(found, webhookIssues(draft, hasSecret));
    setErrors(found);
    saveGroup(found, settingsOf(draft, monitoring), () => setEdits({}));
  };

  return (
    <section className="admin-section" aria-labelledby="monitoring-settings-title" data-testid="monitoring-settings">
      <h2 id="monitoring-settings-title">Monitoring and alerts</h2>
      <p className="admin-section__lede">
        An alert is raised when a slice’s model quality falls, a feature drifts, or anomalies or training–serving skew appear: it is POSTed to the alert
        webhook, and the slice’s routing boost is multiplied for a while, so more of its predictions go to raters.
      </p>
      {status ? (
        <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
          <p>{status.message}</p>
        </Alert>
      ) : null}
      <form className="admin-form admin-form--plain" noValidate onSubmit={save}>
        {ROWS.map(({ title, keys }) => (
          <fieldset key={title} className="admin-form__scopes">
            <legend>{title}</legend>
            <div className="admin-form__row">
              {keys.map((key) => {
                const rule = RULES[key];
                return (
                  <TextField
                    key={key}
                    label={rule.label}
                    name={key}
                    type="number"
                    inputMode="decimal"
                    min={rule.min}
                    max={rule.max}
                    step={rule.integer ? 1 : 'any'}
                    hint={rule.hint}
                    error={errors[key]}
                    value={draft[key]}
                    onChange={(event) => set(key, event.target.value)}
                  />
                );
              })}
            </div>
          </fieldset>
        ))}
        <fieldset className="admin-form__scopes">
          <legend>Alert webhook</legend>
          <p className="admin-section__lede">
            Where alerts are POSTed, signed as export deliveries are: X-Backflow-Signature: sha256=&lt;HMAC-SHA256 of the body, hex&gt;.
          </p>
          <div className="admin-form__row">
            <TextField
              label="Alert webhook URL"
              name="monitoringWebhookUrl"
              type="url"
              inputMode="url"
              hint="Blank: alerts go to the export webhook, if there is one."
              error={errors.webhookUrl}
              value={draft.webhookUrl}
              onChange={(event) => set('webhookUrl', event.target.value)}
            />
            <TextField
              label="Alert webhook secret"
              name="monitoringWebhookSecret"
              type="password"
              autoComplete="new-password"
              hint={hasSecret ? 'A secret is set: leave this blank to keep it, or type a new one to replace it.' : 'Signs each delivery: 16 to 200 characters.'}
              error={errors.webhookSecret}
              value={draft.webhookSecret}
              onChange={(event) => set('webhookSecret', event.target.value)}
            />
          </div>
        </fieldset>
        <div className="admin-form__actions">
          <Button type="submit" busy={pending}>
            Save monitoring settings
          </Button>
        </div>
      </form>
    </section>
  );
}
