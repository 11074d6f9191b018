import { useMemo, useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { defaultFieldOrder, defaultPrimaryField, DEFAULT_UNDO_SECONDS, type LabelingSettings, type TaskLayout } from '@backflow/contracts';
import { errorMessage } from '../../../lib/api';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import type { Project } from '../../projects/api/projects-api';
import { useUpdateProject } from '../../projects/hooks/use-update-project';
import { inputFieldsQuery } from '../api/labeling-api';
import { TaskInput } from './task-input';
import './task-layout-editor.css';

const NONE = '';

/**
 * The rater screen of a project, for admins: the order raters read the input's fields in, the one
 * shown as the text to read, and how long an answer waits before it is sent (the undo window).
 * Saved in the project's labeling settings (`labeling.layout`, `labeling.undoSeconds`); a preview
 * shows the task as raters will see it. Self-contained: it needs only the project.
 */
export function TaskLayoutEditor({ project }: { project: Project }) {
  const update = useUpdateProject(project.slug);
  const known = useQuery(inputFieldsQuery(project.slug));
  const labeling = project.labeling;
  const saved = labeling?.layout ?? null;
  const masked = useMemo(() => new Set(project.maskedFields ?? []), [project.maskedFields]);

  // the fields to order: the saved layout's, then those the traffic has (default order), then any added here
  const [fields, setFields] = useState<string[]>(saved?.fields ?? []);
  const [primary, setPrimary] = useState<string | null>(saved ? saved.primary : null);
  const [customized, setCustomized] = useState(saved !== null);
  const [added, setAdded] = useState('');
  const [undoSeconds, setUndoSeconds] = useState(String(labeling?.undoSeconds ?? DEFAULT_UNDO_SECONDS));
  const [status, setStatus] = useState<{ tone: 'error' | 'info'; message: string } | null>(null);

  const seen = useMemo(() => (known.data ?? []).map((f) => f.name), [known.data]);
  // until the admin changes something, an unset layout shows the default over the known fields
  const shownPrimary = customized ? primary : defaultPrimaryField(seen);
  const listed = customized
    ? [
        ...fields,
        ...defaultFieldOrder(
          seen.filter((f) => !fields.includes(f)),
          null,
        ),
      ]
    : defaultFieldOrder(seen, shownPrimary);

  const edit = (change: (order: string[]) => string[], nextPrimary: string | null = shownPrimary) => {
    setFields(change(listed));
    setPrimary(nextPrimary);
    setCustomized(true);
    setStatus(null);
  };
  const move = (index: number, by: -1 | 1) =>
    edit((order) => {
      const next = [...order];
      [next[index], next[index + by]] = [next[index + by], next[index]];
      return next;
    });
  const remove = (name: string) => edit((order) => order.filter((f) => f !== name), shownPrimary === name ? null : shownPrimary);
  const add = () => {
    const name = added.trim();
    if (!name || listed.includes(name)) return;
    edit((order) => [...order, name]);
    setAdded('');
  };

  const layout: TaskLayout = { fields: listed, primary: shownPrimary };
  const preview = Object.fromEntries(
    listed.filter((f) => !masked.has(f)).map((f) => [f, f === shownPrimary ? 'The text raters read, in full, in its place.' : '…']),
  );

  const save = (event: FormEvent) => {
    event.preventDefault();
    if (!labeling) return;
    const seconds = Number(undoSeconds);
    const next: LabelingSettings = { ...labeling, undoSeconds: seconds };
    if (customized) next.layout = layout;
    update.mutate(
      { labeling: next },
      {
        onSuccess: () =>
          setStatus({
            tone: 'info',
            message: 'Saved. Raters get it with every task from now on (a task already on their screen keeps its layout until answered or reloaded).',
          }),
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'The rater screen could not be saved.') }),
      },
    );
  };
  const resetLayout = () => {
    if (!labeling) return;
    const { layout: _layout, ...rest } = labeling;
    update.mutate(
      { labeling: rest },
      {
        onSuccess: () => {
          setFields([]);
          setPrimary(null);
          setCustomized(false);
          setStatus({ tone: 'info', message: 'Saved: raters see the default layout.' });
        },
        onError: (cause) => setStatus({ tone: 'error', message: errorMessage(cause, 'The rater screen could not be saved.') }),
      },
    );
  };

  return (
    <section className="admin-section" aria-labelledby="rater-screen-title" data-testid="task-layout-editor">
      <h2 id="rater-screen-title">Rater screen</h2>
      <p className="admin-section__lede">
        The order raters read an example’s fields in, and the field that is the text to read: shown large, in its place. Every other field is a row, in the same
        place in every task.{' '}
        {customized
          ? null
          : 'This project uses the default: subject or title first, then the text (a field named like text, body or content), then the rest by name.'}
      </p>
      <form className="admin-form admin-form--plain task-layout" onSubmit={save} noValidate>
        {status ? (
          <Alert tone={status.tone} title={status.tone === 'error' ? 'Not saved' : undefined}>
            <p>{status.message}</p>
          </Alert>
        ) : null}
        <div className="task-layout__columns">
          <fieldset className="task-layout__fields">
            <legend>Fields, in the order raters read them (the one chosen is the text to read)</legend>
            {listed.length === 0 ? (
              <p className="admin-section__lede">{known.isPending ? 'Reading the fields of recent traffic…' : 'No field known yet: add them by name below.'}</p>
            ) : (
              <ol className="task-layout__list">
                {listed.map((name, index) => (
                  <li key={name} className="task-layout__row" data-field={name}>
                    <label className="task-layout__primary">
                      <input
                        type="radio"
                        name="primary"
                        value={name}
                        checked={shownPrimary === name}
                        onChange={() => edit((order) => order, name)}
                        aria-describedby={masked.has(name) ? `masked-${index}` : undefined}
                      />
                      <code>{name}</code>
                      {shownPrimary === name ? <span className="task-layout__badge">text to read</span> : null}
                    </label>
                    {masked.has(name) ? (
                      <span className="task-layout__masked" id={`masked-${index}`}>
                        masked: raters never see it
                      </span>
                    ) : null}
                    <span className="task-layout__actions">
                      <Button variant="secondary" onClick={() => move(index, -1)} disabled={index === 0} aria-label={`Move ${name} up`}>
                        ↑
                      </Button>
                      <Button variant="secondary" onClick={() => move(index, 1)} disabled={index === listed.length - 1} aria-label={`Move ${name} down`}>
                        ↓
                      </Button>
                      <Button variant="secondary" onClick={() => remove(name)} aria-label={`Remove ${name} from the list`}>
                        Remove
                      </Button>
                    </span>
                  </li>
                ))}
              </ol>
            )}
            <label className="task-layout__primary task-layout__none">
              <input type="radio" name="primary" value={NONE} checked={shownPrimary === null} onChange={() => edit((order) => order, null)} />
              No text to read: every field is a row
            </label>
            <p className="admin-section__lede">A field left off the list still shows, after these, in the default order.</p>
            <div className="task-layout__add">
              <TextField
                label="Add a field by name"
                name="layoutField"
                value={added}
                onChange={(event) => setAdded(event.target.value)}
                onKeyDown={(event) => {
                  if (event.key === 'Enter') {
                    event.preventDefault();
                    add();
                  }
                }}
              />
              <Button variant="secondary" onClick={add} disabled={!added.trim() || listed.includes(added.trim())}>
                Add field
              </Button>
            </div>
          </fieldset>
          <figure className="task-layout__preview" aria-labelledby="layout-preview-title">
            <figcaption id="layout-preview-title">How a rater sees an example</figcaption>
            <TaskInput
              input={preview}
              layout={{ fields: layout.fields.filter((f) => !masked.has(f)), primary: shownPrimary && !masked.has(shownPrimary) ? shownPrimary : null }}
            />
          </figure>
        </div>
        <TextField
          label="Undo window (seconds)"
          name="undoSeconds"
          type="number"
          min={0}
          max={60}
          hint="How long an answer waits in the rater’s page before it is sent: Undo (Z) takes it back within it, even when one answer decides the task. 0 sends at once."
          value={undoSeconds}
          onChange={(event) => setUndoSeconds(event.target.value)}
        />
        <div className="admin-form__actions">
          <Button type="submit" busy={update.isPending}>
            Save rater screen
          </Button>
          {saved ? (
            <Button variant="secondary" onClick={resetLayout} disabled={update.isPending}>
              Use the default layout
            </Button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
