import { useState, type FormEvent } from 'react';
import { consensusIssue, LabelingSettings, type ConsensusMethod } from '@backflow/contracts';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import type { Project } from '../api/projects-api';
import { numberIssue, percentText, useSettingsGroup, type NumberRule } from './settings-group';

type PiiPattern = NonNullable<LabelingSettings['pii']>['patterns'][number];

const PII: Array<{ pattern: PiiPattern; says: string }> = [
  { pattern: 'email', says: 'e-mail addresses become [email]' },
  { pattern: 'phone', says: 'phone numbers (7 to 15 digits) become [phone]' },
  { pattern: 'card', says: 'payment card numbers (13 to 19 digits passing the Luhn check) become [card]' },
];

const CONSENSUS: Array<{ method: ConsensusMethod; name: string; says: string }> = [
  { method: 'majority', name: 'Majority vote', says: 'The label most raters gave, decided at once.' },
  {
    method: 'dawid_skene',
    name: 'Dawid-Skene',
    says: 'Majority at once, then re-estimated by a job that weighs each rater by how reliable they have been: labels not yet exported may change.',
  },
];

interface Draft {
  leaseSeconds: string;
  agreementThreshold: string;
  maxAnnotations: string;
  showPrediction: boolean;
  consensus: ConsensusMethod;
  goldRate: string;
  goldMinAnswers: string;
  goldMinAccuracy: string;
  piiPatterns: PiiPattern[];
  piiForAdmins: boolean;
}
// (the undo window is the rater screen's, set with its layout below)
type NumberKey = 'leaseSeconds' | 'agreementThreshold' | 'maxAnnotations' | 'goldRate' | 'goldMinAnswers' | 'goldMinAccuracy';

const NUMBERS: Record<NumberKey, NumberRule> = {
  leaseSeconds: { label: 'Lease length (seconds)', hint: 'How long a claimed task stays a rater’s without a heartbeat.', min: 10, max: 3600, integer: true },
  agreementThreshold: {
    label: 'Agreement threshold (%)',
    hint: 'Below this share for the majority label, one more rater is added, then a reviewer decides.',
    min: 0,
    max: 100,
    percent: true,
  },
  maxAnnotations: { label: 'Most answers per task', hint: '', min: 1, max: 25, integer: true, optional: true },
  goldRate: { label: 'Gold rate (%)', hint: 'The share of a rater’s claims answered with a gold item they have not seen.', min: 0, max: 50, percent: true },
  goldMinAnswers: { label: 'Gold answers before a pause', hint: 'Gold answers a rater gives before they can be paused.', min: 1, max: 1000, integer: true },
  goldMinAccuracy: {
    label: 'Minimum gold accuracy (%)',
    hint: 'Below this accuracy on gold, a rater is paused in the project.',
    min: 0,
    max: 100,
    percent: true,
  },
};

const percent = percentText;
const optional = (value: number | undefined) => (value === undefined ? '' : String(value));

function draftOf(labeling: LabelingSettings): Draft {
  return {
    leaseSeconds: String(labeling.leaseSeconds),
    agreementThreshold: percent(labeling.agreementThreshold),
    maxAnnotations: optional(labeling.maxAnnotations),
    showPrediction: labeling.showPrediction,
    consensus: labeling.consensus,
    goldRate: percent(labeling.goldRate),
    goldMinAnswers: String(labeling.goldMinAnswers),
    goldMinAccuracy: percent(labeling.goldMinAccuracy),
    piiPatterns: labeling.pii?.patterns ?? [],
    piiForAdmins: labeling.pii?.forAdmins ?? false,
  };
}

/** What is wrong with a number typed in a field, naming the field; nothing when the setting takes it. */

/** The whole group, as the PATCH replaces it: the fields shown here from the draft, the others (the rater screen's layout) as they are. */
function settingsOf(draft: Draft, current: LabelingSettings): LabelingSettings {
  const number = (key: NumberKey) => (draft[key].trim() === '' ? undefined : Number(draft[key]) / (NUMBERS[key].percent ? 100 : 1));
  const { pii: _pii, maxAnnotations: _max, ...kept } = current;
  const maxAnnotations = number('maxAnnotations');
  return {
    ...kept,
    leaseSeconds: number('leaseSeconds') ?? current.leaseSeconds,
    agreementThreshold: number('agreementThreshold') ?? current.agreementThreshold,
    ...(maxAnnotations !== undefined ? { maxAnnotations } : {}),
    showPrediction: draft.showPrediction,
    consensus: draft.consensus,
    goldRate: number('goldRate') ?? current.goldRate,
    goldMinAnswers: number('goldMinAnswers') ?? current.goldMinAnswers,
    goldMinAccuracy: number('goldMinAccuracy') ?? current.goldMinAccuracy,
    ...(draft.piiPatterns.length
      ? { pii: { patterns: PII.map((p) => p.pattern).filter((p) => draft.piiPatterns.includes(p)), forAdmins: draft.piiForAdmins } }
      : {}),
  };
}

/**
 * How tasks are handed out and decided (`labeling`): leases, agreement, consensus, the undo window, gold
 * checks of raters and the personal data hidden from them. Only what was edited here is taken from the form:
 * the rest of the group (the rater screen's layout, and a field another editor saved meanwhile) is sent as the project has it.
 */
export function LabelingSettingsEditor({ project }: { project: Project }) {
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const [errors, setErrors] = useState<Partial<Record<NumberKey, string>>>({});
  const {
    save: saveGroup,
    status,
    pending,
  } = useSettingsGroup(project.slug, 'labeling', LabelingSettings, {
    saved: 'Saved: tasks claimed from now on follow these settings.',
    failed: 'The labeling settings could not be saved.',
  });
  const labeling = project.labeling;
  const routing = project.questions.find((q) => q.name === project.routingQuestion) ?? project.questions[0];
  const dawidSkeneIssue = routing ? consensusIssue('dawid_skene', routing) : undefined;

  if (!labeling)
    return (
      <section className="admin-section" aria-labelledby="labeling-settings-title" data-testid="labeling-settings">
        <h2 id="labeling-settings-title">Labeling</h2>
        <p className="admin-section__lede">Only a project admin sees and changes the labeling settings.</p>
      </section>
    );

  const draft: Draft = { ...draftOf(labeling), ...edits };
  const set = (patch: Partial<Draft>) => {
    setEdits((current) => ({ ...current, ...patch }));
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([key]) => !(key in patch))));
  };

  const save = (event: FormEvent) => {
    event.preventDefault();
    const found = Object.fromEntries(
      (Object.keys(NUMBERS) as NumberKey[]).flatMap((key) => {
        const issue = numberIssue(draft[key], NUMBERS[key]);
        return issue ? [[key, issue]] : [];
      }),
    ) as Partial<Record<NumberKey, string>>;
    setErrors(found);
    saveGroup(found, settingsOf(draft, labeling), () => setEdits({}));
  };

  const numberField = (key: NumberKey, hint = NUMBERS[key].hint) => {
    const rule = NUMBERS[key];
    return (
      <TextField
        label={rule.label}
        name={key}
        type="number"
        inputMode="decimal"
        min={rule.min}
        max={rule.max}
        step={rule.integer ? 1 : 'any'}
        hint={hint}
        error={errors[key]}
        value={draft[key]}
        onChange={(event) => set({ [key]: event.target.value })}
      />
    );
  };

  return (
    <section className="admin-section" aria-labelledby="labeling-settings-title" data-testid="labeling-settings">
      <h2 id="labeling-settings-title">Labeling</h2>
      <p className="admin-section__lede">How tasks are handed to raters and decided, how raters are checked with gold items, and what they are not shown.</p>
      {status ? (
        <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
          <p>{status.message}</p>
        </Alert>
      ) : null}
      <form className="admin-form admin-form--plain" noValidate onSubmit={save}>
        <div className="admin-form__row">{numberField('leaseSeconds')}</div>
        <div className="admin-form__row">
          {numberField('agreementThreshold')}
          {numberField(
            'maxAnnotations',
            `The most raters a task may get before it goes to review; above the overlap (${project.overlap}), a disagreement first gets one more rater at a time. Blank: the overlap, so a disagreement goes straight to review.`,
          )}
        </div>
        <fieldset className="admin-form__group">
          <legend>Consensus method</legend>
          <p className="admin-section__lede">How answers become a label.</p>
          {CONSENSUS.map(({ method, name, says }) => {
            const unavailable = method === 'dawid_skene' && dawidSkeneIssue !== undefined && draft.consensus !== method;
            return (
              <label key={method} className="admin-form__check">
                <input
                  type="radio"
                  name="consensus"
                  value={method}
                  checked={draft.consensus === method}
                  disabled={unavailable}
                  onChange={() => set({ consensus: method })}
                />
                <span>
                  <strong>{name}</strong>: {says}
                  {unavailable ? ` Not for this project: ${dawidSkeneIssue}.` : ''}
                </span>
              </label>
            );
          })}
        </fieldset>
        <label className="admin-form__check">
          <input type="checkbox" name="showPrediction" checked={draft.showPrediction} onChange={(event) => set({ showPrediction: event.target.checked })} />
          Show the model’s prediction to raters as a suggestion (off: raters label blind)
        </label>
        <div className="admin-form__row">
          {numberField('goldRate')}
          {numberField('goldMinAnswers')}
          {numberField('goldMinAccuracy')}
        </div>
        <fieldset className="admin-form__group">
          <legend>Personal data hidden from raters</legend>
          <p className="admin-section__lede">
            Every string of a task’s input and the suggestions it shows is masked by these patterns before it leaves the server, for raters and reviewers.
          </p>
          {PII.map(({ pattern, says }) => (
            <label key={pattern} className="admin-form__check">
              <input
                type="checkbox"
                name="piiPatterns"
                value={pattern}
                checked={draft.piiPatterns.includes(pattern)}
                onChange={(event) =>
                  set({ piiPatterns: event.target.checked ? [...draft.piiPatterns, pattern] : draft.piiPatterns.filter((p) => p !== pattern) })
                }
              />
              <span>
                <strong>{pattern}</strong>: {says}
              </span>
            </label>
          ))}
          <label className="admin-form__check">
            <input
              type="checkbox"
              name="piiForAdmins"
              checked={draft.piiForAdmins && draft.piiPatterns.length > 0}
              disabled={draft.piiPatterns.length === 0}
              onChange={(event) => set({ piiForAdmins: event.target.checked })}
            />
            Admins see the placeholders too (off: an admin claiming a task sees the text as sent)
          </label>
        </fieldset>
        <div className="admin-form__actions">
          <Button type="submit" busy={pending}>
            Save labeling settings
          </Button>
        </div>
      </form>
    </section>
  );
}
