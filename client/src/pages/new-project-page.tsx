import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { isApiError, messageWithField } from '../lib/api';
import { navigate, settingsPath } from '../lib/router';
import { createProject, projectListQuery } from '../modules/projects/api/projects-api';
import { fromLabelRows, InstructionsField, LabelRowsField, splitList, type LabelRow } from '../modules/projects/components/project-fields';
import { newQuestionRow, QuestionsEditor, toQuestions, type QuestionRow } from '../modules/projects/components/questions-editor';
import { Alert } from '../ui/alert';
import { PageShell } from '../ui/page-shell';
import { Button } from '../ui/button';
import { TextField } from '../ui/text-field';
import './admin-pages.css';

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);

/** What raters answer: one label per example (the labels form), or a list of questions of any kind. */
type AnswerForm = 'labels' | 'questions';

/**
 * An admin creates a project: its labels and hotkeys (or its questions of any kind and the one
 * routing reads), instructions with a preview, overlap, masked fields and how much to route.
 */
export function NewProjectPage() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [labels, setLabels] = useState<LabelRow[]>([
    { name: '', hotkey: '1' },
    { name: '', hotkey: '2' },
  ]);
  const [answerForm, setAnswerForm] = useState<AnswerForm>('labels');
  const [questions, setQuestions] = useState<QuestionRow[]>(() => [newQuestionRow(0)]);
  const [routingQuestion, setRoutingQuestion] = useState('');
  const [instructions, setInstructions] = useState('');
  const [overlap, setOverlap] = useState('1');
  const [masked, setMasked] = useState('');
  const [threshold, setThreshold] = useState('');
  const creation = useMutation({
    mutationFn: createProject,
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: projectListQuery().queryKey });
      navigate(settingsPath(created.slug));
    },
  });
  const error = creation.error
    ? isApiError(creation.error)
      ? { message: creation.error.message, field: creation.error.field }
      : { message: 'The project could not be created.' }
    : null;

  useEffect(() => {
    document.title = 'New project · Backflow';
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const names = questions.map((q) => q.name.trim());
    creation.mutate({
      slug,
      name,
      ...(answerForm === 'labels'
        ? { taskType: 'single_label' as const, labels: fromLabelRows(labels) }
        : { questions: toQuestions(questions), routingQuestion: names.includes(routingQuestion) ? routingQuestion : names[0] }),
      instructions,
      overlap: Number(overlap),
      maskedFields: splitList(masked),
      ...(threshold.trim() ? { routing: { threshold: Number(threshold) } } : {}),
    });
  };

  return (
    <PageShell className="admin-page" back>
      <h1 className="admin-page__title">New project</h1>
      <form className="admin-form" onSubmit={submit} noValidate>
        {error ? (
          <Alert title="Not created">
            <p>{messageWithField(error.message, error.field)}</p>
          </Alert>
        ) : null}
        <div className="admin-form__row">
          <TextField
            label="Name"
            name="name"
            value={name}
            required
            onChange={(event) => {
              setName(event.target.value);
              if (!slugEdited) setSlug(slugOf(event.target.value));
            }}
          />
          <TextField
            label="Slug"
            name="slug"
            hint="In URLs and the API: lowercase letters, digits and dashes."
            value={slug}
            required
            onChange={(event) => {
              setSlug(event.target.value);
              setSlugEdited(true);
            }}
          />
        </div>

        <fieldset className="admin-form__group">
          <legend>What raters answer</legend>
          <label className="admin-form__check">
            <input type="radio" name="answerForm" value="labels" checked={answerForm === 'labels'} onChange={() => setAnswerForm('labels')} /> One label per
            example, chosen by hotkey
          </label>
          <label className="admin-form__check">
            <input type="radio" name="answerForm" value="questions" checked={answerForm === 'questions'} onChange={() => setAnswerForm('questions')} />{' '}
            Questions: one or more on each task, of any kind (labels, a rating, a number, a text, spans of a text)
          </label>
        </fieldset>

        {answerForm === 'labels' ? (
          <LabelRowsField rows={labels} onChange={setLabels} />
        ) : (
          <QuestionsEditor rows={questions} onChange={setQuestions} routing={routingQuestion} onRoutingChange={setRoutingQuestion} />
        )}
        <InstructionsField value={instructions} onChange={setInstructions} />

        <div className="admin-form__row">
          <TextField
            label="Raters per example (overlap)"
            name="overlap"
            type="number"
            min={1}
            max={10}
            value={overlap}
            onChange={(event) => setOverlap(event.target.value)}
          />
          <TextField
            label="Masked fields"
            name="maskedFields"
            hint="Input fields raters never see, comma-separated (a nested value captured by an integration is its dotted name, a.b)."
            value={masked}
            onChange={(event) => setMasked(event.target.value)}
          />
          <TextField
            label="Route when uncertainty ≥"
            name="threshold"
            hint="0–1, least confidence. Empty: the 5% least confident predictions, plus the 1% exploration sample."
            type="number"
            min={0}
            max={1}
            step={0.05}
            value={threshold}
            onChange={(event) => setThreshold(event.target.value)}
          />
        </div>

        <div className="admin-form__actions">
          <Button type="submit" busy={creation.isPending || creation.isSuccess}>
            Create project
          </Button>
        </div>
      </form>
    </PageShell>
  );
}
