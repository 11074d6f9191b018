import { useState, type FormEvent } from 'react';
import { errorMessage } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import type { Project } from '../api/projects-api';
import { useUpdateProject } from '../hooks/use-update-project';
import { fromLabelRows, InstructionsField, LabelRowsField, splitList, toLabelRows } from './project-fields';
import { asksOneLabel, QuestionsSummary } from './question-summary';

/** Edits what raters work with: the name, labels and hotkeys (of a project of one label question), instructions, overlap and masked fields. */
export function ProjectEditor({ project }: { project: Project }) {
  const update = useUpdateProject(project.slug);
  // the questions of a project that asks several are set when it is made; only one label question's labels change here
  const labelsEditable = asksOneLabel(project);
  const [name, setName] = useState(project.name);
  const [labels, setLabels] = useState(toLabelRows(project.labels));
  const [instructions, setInstructions] = useState(project.instructions ?? '');
  const [overlap, setOverlap] = useState(String(project.overlap));
  const [masked, setMasked] = useState((project.maskedFields ?? []).join(', '));
  const [status, setStatus] = useState<{ tone: 'error' | 'info'; message: string } | null>(null);

  const save = (event: FormEvent) => {
    event.preventDefault();
    setStatus(null);
    update.mutate(
      { name, ...(labelsEditable ? { labels: fromLabelRows(labels) } : {}), instructions, overlap: Number(overlap), maskedFields: splitList(masked) },
      {
        onSuccess: () => setStatus({ tone: 'info', message: 'Saved. Raters see the change on their next task.' }),
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'The project could not be saved.') }),
      },
    );
  };

  return (
    <section className="admin-section" aria-labelledby="edit-title">
      <h2 id="edit-title">Settings</h2>
      <form className="admin-form admin-form--plain" onSubmit={save} noValidate>
        {status ? (
          <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
            <p>{status.message}</p>
          </Alert>
        ) : null}
        <TextField label="Project name" name="projectName" value={name} onChange={(event) => setName(event.target.value)} />
        {labelsEditable ? (
          <LabelRowsField rows={labels} onChange={setLabels} />
        ) : (
          <div className="admin-form__group">
            <p className="admin-form__legend">Questions (set when the project was made)</p>
            <QuestionsSummary project={project} />
          </div>
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
            hint="Input fields raters never see, comma-separated."
            value={masked}
            onChange={(event) => setMasked(event.target.value)}
          />
        </div>
        <div className="admin-form__actions">
          <Button type="submit" busy={update.isPending}>
            Save settings
          </Button>
        </div>
      </form>
    </section>
  );
}
