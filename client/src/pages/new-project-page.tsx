import { useEffect, useState, type FormEvent } from 'react';
import Markdown from 'react-markdown';
import { isApiError } from '../lib/api';
import { navigate, settingsPath } from '../lib/router';
import { AccountMenu } from '../modules/auth/components/account-menu';
import type { Session } from '../modules/auth/api/session-api';
import { createProject } from '../modules/projects/api/projects-api';
import { Alert } from '../ui/alert';
import { AppHeader } from '../ui/app-header';
import { Button } from '../ui/button';
import { TextField } from '../ui/text-field';
import './admin-pages.css';

export interface NewProjectPageProps {
  session: Session;
  onSignOut: () => Promise<void>;
}

interface LabelRow {
  name: string;
  hotkey: string;
}

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);

/** An admin creates a project: its labels and hotkeys, instructions with a preview, overlap, masked fields and how much to route. */
export function NewProjectPage({ session, onSignOut }: NewProjectPageProps) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [labels, setLabels] = useState<LabelRow[]>([
    { name: '', hotkey: '1' },
    { name: '', hotkey: '2' },
  ]);
  const [instructions, setInstructions] = useState('');
  const [preview, setPreview] = useState(false);
  const [overlap, setOverlap] = useState('1');
  const [masked, setMasked] = useState('');
  const [threshold, setThreshold] = useState('');
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'New project · Backflow';
  }, []);

  const setLabel = (index: number, patch: Partial<LabelRow>) => setLabels((rows) => rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await createProject({
        slug,
        name,
        taskType: 'single_label',
        labels: labels.filter((l) => l.name.trim()).map((l) => ({ name: l.name.trim(), ...(l.hotkey.trim() ? { hotkey: l.hotkey.trim() } : {}) })),
        instructions,
        overlap: Number(overlap),
        maskedFields: masked
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean),
        ...(threshold.trim() ? { routing: { threshold: Number(threshold) } } : {}),
      });
      navigate(settingsPath(created.slug));
    } catch (cause) {
      setError(isApiError(cause) ? { message: cause.message, field: cause.field } : { message: 'The project could not be created.' });
      setBusy(false);
    }
  };

  return (
    <div className="app-shell">
      <AppHeader>
        <AccountMenu user={session.user} onSignOut={onSignOut} />
      </AppHeader>
      <main className="admin-page">
        <button type="button" className="link-button" onClick={() => navigate('/')}>
          ← Projects
        </button>
        <h1 className="admin-page__title">New project</h1>
        <form className="admin-form" onSubmit={submit} noValidate>
          {error ? (
            <Alert title="Not created">
              <p>
                {error.message}
                {error.field ? ` (field: ${error.field})` : ''}
              </p>
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
            <legend>Labels and their hotkeys</legend>
            {labels.map((label, index) => (
              <div key={index} className="label-row">
                <TextField label={`Label ${index + 1}`} name={`label-${index}`} value={label.name} onChange={(event) => setLabel(index, { name: event.target.value })} />
                <TextField label="Hotkey" name={`hotkey-${index}`} value={label.hotkey} maxLength={1} className="label-row__key" onChange={(event) => setLabel(index, { hotkey: event.target.value })} />
                <Button variant="secondary" onClick={() => setLabels((rows) => rows.filter((_, i) => i !== index))} disabled={labels.length <= 2} aria-label={`Remove label ${index + 1}`}>
                  Remove
                </Button>
              </div>
            ))}
            <Button variant="secondary" onClick={() => setLabels((rows) => [...rows, { name: '', hotkey: rows.length < 9 ? String(rows.length + 1) : '' }])}>
              Add a label
            </Button>
          </fieldset>

          <fieldset className="admin-form__group">
            <legend>Instructions for raters (markdown)</legend>
            <div className="admin-form__tabs" role="group" aria-label="Instructions view">
              <Button variant={preview ? 'secondary' : 'primary'} onClick={() => setPreview(false)} aria-pressed={!preview}>
                Write
              </Button>
              <Button variant={preview ? 'primary' : 'secondary'} onClick={() => setPreview(true)} aria-pressed={preview}>
                Preview
              </Button>
            </div>
            {preview ? (
              <div className="admin-form__preview" data-testid="instructions-preview">
                {instructions.trim() ? <Markdown>{instructions}</Markdown> : <p>Nothing to preview yet.</p>}
              </div>
            ) : (
              <textarea className="admin-form__textarea" name="instructions" aria-label="Instructions" rows={6} value={instructions} onChange={(event) => setInstructions(event.target.value)} />
            )}
          </fieldset>

          <div className="admin-form__row">
            <TextField label="Raters per example (overlap)" name="overlap" type="number" min={1} max={10} value={overlap} onChange={(event) => setOverlap(event.target.value)} />
            <TextField
              label="Masked fields"
              name="maskedFields"
              hint="Input fields raters never see, comma-separated (a.b for nested)."
              value={masked}
              onChange={(event) => setMasked(event.target.value)}
            />
            <TextField
              label="Route when uncertainty ≥"
              name="threshold"
              hint="0–1, least confidence. Empty: only the 1% exploration sample."
              type="number"
              min={0}
              max={1}
              step={0.05}
              value={threshold}
              onChange={(event) => setThreshold(event.target.value)}
            />
          </div>

          <div className="admin-form__actions">
            <Button type="submit" busy={busy}>
              Create project
            </Button>
          </div>
        </form>
      </main>
    </div>
  );
}
