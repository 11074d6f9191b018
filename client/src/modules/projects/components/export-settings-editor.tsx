import { useState, type FormEvent } from 'react';
import { EXPORT_FORMATS, EXPORT_LABEL_SOURCES, exportFormatIssues, ExportSettings, MASKED_FIELD_POLICIES, type MaskedFieldPolicy } from '@backflow/contracts';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField, type TextFieldProps } from '../../../ui/text-field';
import type { Project } from '../api/projects-api';
import { useSettingsGroup } from './settings-group';

type ExportFormat = (typeof EXPORT_FORMATS)[number];
type LabelSource = (typeof EXPORT_LABEL_SOURCES)[number];

const FORMATS: Record<ExportFormat, string> = {
  tfrecord: 'tf.Example records, one example per label',
  csv: 'CSV, one row per label',
  jsonl: 'JSON Lines, one object per label',
  parquet: 'Parquet, one row per label',
  elwc: 'a ranking’s ExampleListWithContext (TensorFlow Ranking): one record per list',
  item_tfrecord: 'a ranking as tf.Example records, one example per candidate',
  item_csv: 'a ranking as CSV, one row per candidate',
  item_jsonl: 'a ranking as JSON Lines, one object per candidate',
  item_parquet: 'a ranking as Parquet, one row per candidate',
  sft_jsonl: 'a generation as chat messages for supervised fine-tuning (JSON Lines)',
  dpo_jsonl: 'a generation as preference pairs for DPO: prompt, chosen, rejected (JSON Lines)',
  sft_tfrecord: 'the chat messages as tf.Example records',
  dpo_tfrecord: 'the preference pairs as tf.Example records',
};
const SOURCES: Record<LabelSource, string> = {
  feedback: 'labels implicit feedback gave, by the feedback rules',
  consensus: 'the label raters’ answers decided',
  review: 'a reviewer’s decision',
  gold: 'the known answers of gold items',
  weak: 'the label model’s, from labeling functions, each weighted by its probability',
  propagated: 'the label of the nearest human-labelled neighbours over embeddings, weighted by their share',
};
const MASKED: Record<MaskedFieldPolicy, string> = {
  drop: 'left out (the default)',
  hash: 'HMAC-SHA256 with a key of the project’s own that no API returns, as hex: the same value gives the same hash in every span, so joins still work',
  keep: 'as stored',
};
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

interface Draft {
  formats: ExportFormat[];
  train: string;
  eval: string;
  sources: LabelSource[];
  minAgreement: string;
  maskedFields: MaskedFieldPolicy;
  schedule: string;
  webhookUrl: string;
  webhookSecret: string;
}
type Errors = Partial<Record<keyof Draft, string>>;
type TextKey = 'train' | 'eval' | 'minAgreement' | 'schedule' | 'webhookUrl' | 'webhookSecret';
const whole: Partial<TextFieldProps> = { type: 'number', min: 0, max: 100, step: 1 };

function draftOf(settings: ExportSettings): Draft {
  return {
    formats: settings.formats,
    train: String(settings.splits.train),
    eval: String(settings.splits.eval),
    sources: settings.sources,
    minAgreement: settings.minAgreement === undefined ? '' : String(Number((settings.minAgreement * 100).toFixed(4))),
    maskedFields: settings.maskedFields,
    schedule: settings.schedule ?? '',
    webhookUrl: settings.webhook?.url ?? '',
    webhookSecret: '',
  };
}

/** A schedule in plain words, for the common shapes (a time every day, a weekday or every hour); nothing for the others. */
function scheduleInWords(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minute, hour, day, month, weekday] = fields;
  const number = (text: string, max: number) => (/^\d+$/.test(text) && Number(text) <= max ? Number(text) : undefined);
  const [m, h, w] = [number(minute, 59), number(hour, 23), number(weekday, 7)];
  if (m === undefined || day !== '*' || month !== '*') return undefined;
  if (hour === '*' && weekday === '*') return `Every hour at minute ${m}, UTC.`;
  if (h === undefined) return undefined;
  const time = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')} UTC`;
  if (weekday === '*') return `Every day at ${time}.`;
  return w === undefined ? undefined : `Every ${DAYS[w]} at ${time}.`;
}

const integerIn = (text: string, min: number, max: number) => /^\s*\d+\s*$/.test(text) && Number(text) >= min && Number(text) <= max;

function issuesOf(draft: Draft, hasSecret: boolean): Errors {
  const errors: Errors = {};
  if (draft.formats.length === 0) errors.formats = 'Formats: choose at least one.';
  if (!integerIn(draft.train, 0, 100)) errors.train = 'Train split (%) must be a whole number from 0 to 100.';
  if (!integerIn(draft.eval, 0, 100)) errors.eval = 'Eval split (%) must be a whole number from 0 to 100.';
  else if (!errors.train && Number(draft.train) + Number(draft.eval) !== 100)
    errors.eval = `Train and eval splits must add up to 100 (now ${Number(draft.train) + Number(draft.eval)}).`;
  if (draft.sources.length === 0) errors.sources = 'Label sources: choose at least one.';
  const agreement = Number(draft.minAgreement);
  if (draft.minAgreement.trim() !== '' && !(Number.isFinite(agreement) && agreement >= 0 && agreement <= 100))
    errors.minAgreement = 'Minimum agreement (%) must be a number from 0 to 100, or blank.';
  if (draft.schedule.trim() !== '' && !ExportSettings.shape.schedule.safeParse(draft.schedule.trim()).success)
    errors.schedule = 'Schedule must be a cron expression of five fields (minute hour day-of-month month day-of-week), in UTC.';
  const url = draft.webhookUrl.trim();
  if (url === '' && draft.webhookSecret) errors.webhookUrl = 'Export webhook URL is required with a secret (or clear the secret).';
  if (url !== '' && !ExportSettings.shape.webhook.unwrap().shape.url.safeParse(url).success)
    errors.webhookUrl = 'Export webhook URL must be an http:// or https:// address.';
  if (url !== '' && (draft.webhookSecret ? draft.webhookSecret.length < 16 || draft.webhookSecret.length > 200 : !hasSecret))
    errors.webhookSecret = 'Export webhook secret must be 16 to 200 characters.';
  return errors;
}

/** The whole group, as the PATCH replaces it: the feature list, not shown here, is kept as it is; a blank secret keeps the one set. */
function settingsOf(draft: Draft, current: ExportSettings): ExportSettings {
  const { minAgreement: _agreement, schedule: _schedule, webhook: _webhook, ...kept } = current;
  const url = draft.webhookUrl.trim();
  const secret = draft.webhookSecret || current.webhook?.secret;
  return {
    ...kept,
    formats: EXPORT_FORMATS.filter((f) => draft.formats.includes(f)),
    splits: { train: Number(draft.train), eval: Number(draft.eval) },
    sources: EXPORT_LABEL_SOURCES.filter((s) => draft.sources.includes(s)),
    ...(draft.minAgreement.trim() !== '' ? { minAgreement: Number(draft.minAgreement) / 100 } : {}),
    maskedFields: draft.maskedFields,
    ...(draft.schedule.trim() !== '' ? { schedule: draft.schedule.trim().split(/\s+/).join(' ') } : {}),
    ...(url && secret ? { webhook: { url, secret } } : {}),
  };
}

/**
 * What an export writes and when (`export`): formats, splits, label sources, the minimum agreement, masked
 * fields, the cron schedule and the webhook told of each span. Only what was edited here is taken from the form.
 */
export function ExportSettingsEditor({ project }: { project: Project }) {
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const [errors, setErrors] = useState<Errors>({});
  const {
    save: saveGroup,
    status,
    pending,
  } = useSettingsGroup(project.slug, 'export', ExportSettings, {
    saved: 'Saved: the next export is written by these settings.',
    failed: 'The export settings could not be saved.',
  });
  const settings = project.export;
  const routing = project.questions.find((q) => q.name === project.routingQuestion) ?? project.questions[0];

  if (!settings)
    return (
      <section className="admin-section" aria-labelledby="export-settings-title" data-testid="export-settings">
        <h2 id="export-settings-title">Export settings</h2>
        <p className="admin-section__lede">Only a project admin sees and changes the export settings.</p>
      </section>
    );

  const draft: Draft = { ...draftOf(settings), ...edits };
  const hasSecret = Boolean(settings.webhook?.secret);
  const set = (patch: Partial<Draft>) => {
    setEdits((current) => ({ ...current, ...patch }));
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([key]) => !(key in patch))));
  };
  const toggle = <T extends string>(list: T[], item: T, on: boolean) => (on ? [...list, item] : list.filter((x) => x !== item));
  // a format the routing question has nothing of the shape for is not offered (unless already chosen: then it says why it fails)
  const formatIssue = (format: ExportFormat) => (routing ? exportFormatIssues(routing, [format], project.questions)[0]?.message : undefined);
  const offered = EXPORT_FORMATS.filter((f) => !formatIssue(f) || draft.formats.includes(f));
  const inWords = errors.schedule ? undefined : scheduleInWords(draft.schedule);

  const save = (event: FormEvent) => {
    event.preventDefault();
    const found = issuesOf(draft, hasSecret);
    setErrors(found);
    saveGroup(found, settingsOf(draft, settings), () => setEdits({}));
  };

  const field = (key: TextKey, label: string, hint: string, props: Partial<TextFieldProps> = {}) => (
    <TextField label={label} name={key} hint={hint} error={errors[key]} value={draft[key]} onChange={(e) => set({ [key]: e.target.value })} {...props} />
  );
  const checks = <T extends string>(name: 'formats' | 'sources', items: readonly T[], chosen: T[], says: (item: T) => string, legend: string, lede: string) => (
    <fieldset className="admin-form__scopes" aria-describedby={errors[name] ? `export-${name}-error` : undefined}>
      <legend>{legend}</legend>
      <p className="admin-section__lede">{lede}</p>
      {items.map((item) => (
        <label key={item} className="admin-form__check">
          <input
            type="checkbox"
            name={name}
            value={item}
            checked={chosen.includes(item)}
            onChange={(e) => set({ [name]: toggle(chosen, item, e.target.checked) })}
          />
          <span>
            <code>{item}</code>: {says(item)}
          </span>
        </label>
      ))}
      {errors[name] ? (
        <p className="field__error" id={`export-${name}-error`}>
          {errors[name]}
        </p>
      ) : null}
    </fieldset>
  );

  return (
    <section className="admin-section" aria-labelledby="export-settings-title" data-testid="export-settings">
      <h2 id="export-settings-title">Export settings</h2>
      <p className="admin-section__lede">What each export span writes, which labels it takes, and when it runs by itself.</p>
      {status ? (
        <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
          <p>{status.message}</p>
        </Alert>
      ) : null}
      <form className="admin-form admin-form--plain" noValidate onSubmit={save}>
        {checks(
          'formats',
          offered,
          draft.formats,
          (f) => FORMATS[f] + (formatIssue(f) ? ` (not for this project: ${formatIssue(f)})` : ''),
          'Formats',
          'At least one. Ranked-list formats are offered for a ranking question, fine-tuning formats for a generation.',
        )}
        <div className="admin-form__row">
          {field('train', 'Train split (%)', 'The share of examples written to train; train and eval add up to 100.', {
            ...whole,
            onChange: (e) => set({ train: e.target.value, ...(integerIn(e.target.value, 0, 100) ? { eval: String(100 - Number(e.target.value)) } : {}) }),
          })}
          {field('eval', 'Eval split (%)', 'The share written to eval: set to 100 − train when train changes.', whole)}
          {field(
            'minAgreement',
            'Minimum agreement (%)',
            'Labels whose raters agreed less than this are left out (labels without an agreement, such as feedback, stay). Blank: every label.',
            { ...whole, step: 'any' },
          )}
        </div>
        {checks(
          'sources',
          EXPORT_LABEL_SOURCES,
          draft.sources,
          (s) => SOURCES[s],
          'Label sources',
          'The labels a span takes, by source: at least one. Weak labels only when listed, each weighted by its probability.',
        )}
        <fieldset className="admin-form__scopes">
          <legend>Masked fields</legend>
          <p className="admin-section__lede">
            What exported spans do with the project’s masked input fields ({project.maskedFields?.length ? project.maskedFields.join(', ') : 'none yet'}).
          </p>
          {MASKED_FIELD_POLICIES.map((policy) => (
            <label key={policy} className="admin-form__check">
              <input type="radio" name="maskedFields" value={policy} checked={draft.maskedFields === policy} onChange={() => set({ maskedFields: policy })} />
              <span>
                <strong>{policy}</strong>: {MASKED[policy]}
              </span>
            </label>
          ))}
        </fieldset>
        {field(
          'schedule',
          'Schedule (cron, UTC)',
          `Export the new labels on this schedule: five fields (minute hour day-of-month month day-of-week), in UTC, e.g. 0 3 * * * for every day at 03:00 UTC. Blank: on demand only.${inWords ? ` In words: ${inWords}` : ''}`,
          { spellCheck: false, autoComplete: 'off' },
        )}
        <fieldset className="admin-form__scopes">
          <legend>Export webhook</legend>
          <p className="admin-section__lede">
            POSTed the manifest when a span version is complete, retried with backoff until it answers 2xx; monitoring alerts go here too when they have no
            webhook of their own.
          </p>
          <div className="admin-form__row">
            {field('webhookUrl', 'Export webhook URL', 'Blank: no webhook.', { type: 'url', inputMode: 'url' })}
            {field(
              'webhookSecret',
              'Export webhook secret',
              `Signs each delivery: X-Backflow-Signature: sha256=<HMAC-SHA256 of the body, hex>. ${hasSecret ? 'A secret is set: leave this blank to keep it, or type a new one to replace it.' : '16 to 200 characters.'}`,
              { type: 'password', autoComplete: 'new-password' },
            )}
          </div>
        </fieldset>
        <div className="admin-form__actions">
          <Button type="submit" busy={pending}>
            Save export settings
          </Button>
        </div>
      </form>
    </section>
  );
}
