import { useState } from 'react';
import type { FeedbackRules, FeedbackRulesBody, Question } from '@backflow/contracts';
import { errorMessage } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import type { Project } from '../api/projects-api';
import { useUpdateProject } from '../hooks/use-update-project';
import { projectQuestions } from './question-summary';
import { ReapplyFeedback } from './reapply-feedback';
import { KIND_NAMES } from './questions-editor';

interface RuleRow {
  eventType: string;
  valueEquals: string;
  label: string;
  windowMinutes: string;
  priority: string;
}

const VALUE_LABEL = '$value';
// in the label select: the rule labels nothing and sends the prediction to raters
const ROUTE = '$route';

const rowsOf = (rules: FeedbackRules | undefined): RuleRow[] =>
  (rules?.rules ?? []).map((r) => ({
    eventType: r.eventType,
    valueEquals: r.valueEquals === undefined ? '' : String(r.valueEquals),
    label: r.route ? ROUTE : (r.label ?? ''),
    windowMinutes: String(r.windowMinutes),
    priority: String(r.priority ?? 0),
  }));

/** A rule's value: a number or a boolean when it reads as one, else the text. */
function valueOf(text: string): string | number | boolean | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  return Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

type Status = { tone: 'error' | 'info'; message: string } | null;

/** Saving a project's feedback rules, and what the last try said (both editors). */
function useSaveRules(slug: string) {
  const update = useUpdateProject(slug);
  const [status, setStatus] = useState<Status>(null);
  const save = (feedbackRules: FeedbackRulesBody) =>
    update.mutate(
      { feedbackRules },
      {
        onSuccess: () => setStatus({ tone: 'info', message: 'Saved: feedback arriving from now on follows these rules.' }),
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'The rules could not be saved.') }),
      },
    );
  return { save, status, setStatus, pending: update.isPending };
}

/** What the last save said. */
function SaveStatus({ status }: { status: Status }) {
  return status ? (
    <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
      <p>{status.message}</p>
    </Alert>
  ) : null;
}

/** How products' feedback becomes labels: rows for a label routing question, the rules as JSON for another kind (each gives an answer). */
export function FeedbackRulesEditor({ project }: { project: Project }) {
  const questions = projectQuestions(project);
  const routing = questions.find((q) => q.name === project.routingQuestion) ?? questions[0];
  if (routing.kind === 'label') return <LabelFeedbackRulesEditor project={project} />;
  return <AnswerFeedbackRulesEditor project={project} routing={routing} />;
}

/** The rules of a routing question of another kind, as JSON: each rule gives an `answer` of the question's kind. */
function AnswerFeedbackRulesEditor({ project, routing }: { project: Project; routing: Question }) {
  const rules = useSaveRules(project.slug);
  const { setStatus } = rules;
  const [text, setText] = useState(() => JSON.stringify(project.feedbackRules ?? { rules: [] }, null, 2));
  const save = () => {
    setStatus(null);
    let feedbackRules: FeedbackRulesBody;
    try {
      feedbackRules = JSON.parse(text) as FeedbackRulesBody;
    } catch {
      setStatus({ tone: 'error', message: 'The rules are not valid JSON.' });
      return;
    }
    rules.save(feedbackRules);
  };
  return (
    <section className="admin-section" aria-labelledby="feedback-title" data-testid="feedback-rules">
      <h2 id="feedback-title">Feedback rules</h2>
      <p className="admin-section__lede">
        Implicit feedback becomes an answer to <code>{routing.name}</code> ({KIND_NAMES[routing.kind].toLowerCase()}) without a rater. Each rule names an{' '}
        <code>eventType</code> (and optionally <code>valueEquals</code>), a <code>windowMinutes</code>, and the <code>answer</code> it gives: a number, a text,
        a list of labels, or <code>{'{"add": label}'}</code> / <code>{'{"remove": label}'}</code>; <code>{VALUE_LABEL}</code> stands for the event&apos;s value,{' '}
        <code>$predicted</code> for the model&apos;s own output (a thumbs-up). A rule with <code>{'"route": true'}</code> instead of an answer labels nothing
        and sends the prediction to raters (a thumbs-down, a regenerate); an <code>edit</code> event&apos;s distance to the response is measured either way.
      </p>
      <SaveStatus status={rules.status} />
      {rules.status?.tone === 'info' ? <ReapplyFeedback slug={project.slug} /> : null}
      <textarea
        className="admin-form__textarea"
        name="feedbackRules"
        aria-label="Feedback rules (JSON)"
        rows={10}
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
      <div className="admin-form__actions">
        <Button onClick={save} busy={rules.pending}>
          Save feedback rules
        </Button>
      </div>
    </section>
  );
}

/** An event type (and value) within a window means a label; no event at all may mean one too. */
function LabelFeedbackRulesEditor({ project }: { project: Project }) {
  const rules = useSaveRules(project.slug);
  const { setStatus } = rules;
  const [rows, setRows] = useState<RuleRow[]>(() => rowsOf(project.feedbackRules));
  const [absenceLabel, setAbsenceLabel] = useState(project.feedbackRules?.absence?.label ?? '');
  const [absenceWindow, setAbsenceWindow] = useState(String(project.feedbackRules?.absence?.windowMinutes ?? 1440));
  const labels = project.labels.map((l) => l.name);
  const set = (index: number, patch: Partial<RuleRow>) => setRows((current) => current.map((row, i) => (i === index ? { ...row, ...patch } : row)));

  const save = () => {
    setStatus(null);
    const feedbackRules: FeedbackRulesBody = {
      rules: rows.map((r) => {
        const value = valueOf(r.valueEquals);
        return {
          eventType: r.eventType.trim(),
          ...(value !== undefined ? { valueEquals: value } : {}),
          ...(r.label === ROUTE ? { route: true as const } : { label: r.label }),
          windowMinutes: Number(r.windowMinutes),
          priority: Number(r.priority || 0),
        };
      }),
      ...(absenceLabel ? { absence: { label: absenceLabel, windowMinutes: Number(absenceWindow) } } : {}),
    };
    rules.save(feedbackRules);
  };

  return (
    <section className="admin-section" aria-labelledby="feedback-title" data-testid="feedback-rules">
      <h2 id="feedback-title">Feedback rules</h2>
      <p className="admin-section__lede">
        Implicit feedback becomes a label without a rater: an event of a type (and value) within a window after the prediction. When several rules match, the
        highest priority wins; <code>{VALUE_LABEL}</code> takes the label from the event's value (a correction); “send to raters” labels nothing and makes the
        prediction a task (a complaint, a report). A human label always wins over a feedback label.
      </p>
      <SaveStatus status={rules.status} />
      {rules.status?.tone === 'info' ? <ReapplyFeedback slug={project.slug} /> : null}
      {rows.map((row, index) => (
        <div key={index} className="rule-row" role="group" aria-label={`Rule ${index + 1}`}>
          <TextField label="Event type" name={`rule-${index}-type`} value={row.eventType} onChange={(event) => set(index, { eventType: event.target.value })} />
          <TextField
            label="Value equals"
            name={`rule-${index}-value`}
            hint="Optional."
            value={row.valueEquals}
            onChange={(event) => set(index, { valueEquals: event.target.value })}
          />
          <label className="admin-form__select">
            Label
            <select value={row.label} onChange={(event) => set(index, { label: event.target.value })}>
              {[...labels, VALUE_LABEL, ROUTE].map((label) => (
                <option key={label} value={label}>
                  {label === VALUE_LABEL ? 'the event’s value ($value)' : label === ROUTE ? 'no label: send to raters' : label}
                </option>
              ))}
            </select>
          </label>
          <TextField
            label="Within (minutes)"
            name={`rule-${index}-window`}
            type="number"
            min={1}
            value={row.windowMinutes}
            onChange={(event) => set(index, { windowMinutes: event.target.value })}
          />
          <TextField
            label="Priority"
            name={`rule-${index}-priority`}
            type="number"
            value={row.priority}
            onChange={(event) => set(index, { priority: event.target.value })}
          />
          <Button variant="secondary" onClick={() => setRows((current) => current.filter((_, i) => i !== index))} aria-label={`Remove rule ${index + 1}`}>
            Remove
          </Button>
        </div>
      ))}
      <div>
        <Button
          variant="secondary"
          onClick={() => setRows((current) => [...current, { eventType: '', valueEquals: '', label: labels[0] ?? '', windowMinutes: '60', priority: '0' }])}
        >
          Add a rule
        </Button>
      </div>
      <div className="admin-form__row">
        <label className="admin-form__select">
          With no matching event at all
          <select value={absenceLabel} onChange={(event) => setAbsenceLabel(event.target.value)}>
            <option value="">no label</option>
            {labels.map((label) => (
              <option key={label} value={label}>
                label {label}
              </option>
            ))}
          </select>
        </label>
        {absenceLabel ? (
          <TextField
            label="Decided after (minutes)"
            name="absenceWindow"
            type="number"
            min={1}
            value={absenceWindow}
            onChange={(event) => setAbsenceWindow(event.target.value)}
          />
        ) : null}
      </div>
      <div className="admin-form__actions">
        <Button onClick={save} busy={rules.pending}>
          Save feedback rules
        </Button>
      </div>
    </section>
  );
}
