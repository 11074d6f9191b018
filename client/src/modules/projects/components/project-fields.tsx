import { useState } from 'react';
import Markdown from 'react-markdown';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';

export interface LabelRow {
  name: string;
  hotkey: string;
}

export const toLabelRows = (labels: ReadonlyArray<{ name: string; hotkey?: string }>): LabelRow[] =>
  labels.map((l) => ({ name: l.name, hotkey: l.hotkey ?? '' }));

export const fromLabelRows = (rows: LabelRow[]) =>
  rows.filter((l) => l.name.trim()).map((l) => ({ name: l.name.trim(), ...(l.hotkey.trim() ? { hotkey: l.hotkey.trim() } : {}) }));

export interface LabelRowsFieldProps {
  rows: LabelRow[];
  onChange: (rows: LabelRow[]) => void;
  legend?: string;
  /** what the inputs' names start with, so several label sets on one form stay apart */
  namePrefix?: string;
  /** the fewest labels the set may have */
  minRows?: number;
}

/** The label set: a name and a hotkey per row, at least two rows (or `minRows`). */
export function LabelRowsField({ rows, onChange, legend = 'Labels and their hotkeys', namePrefix = '', minRows = 2 }: LabelRowsFieldProps) {
  const set = (index: number, patch: Partial<LabelRow>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset className="admin-form__group">
      <legend>{legend}</legend>
      {rows.map((label, index) => (
        <div key={index} className="label-row">
          <TextField
            label={`Label ${index + 1}`}
            name={`${namePrefix}label-${index}`}
            value={label.name}
            onChange={(event) => set(index, { name: event.target.value })}
          />
          <TextField
            label="Hotkey"
            name={`${namePrefix}hotkey-${index}`}
            value={label.hotkey}
            maxLength={1}
            className="label-row__key"
            onChange={(event) => set(index, { hotkey: event.target.value })}
          />
          <Button
            variant="secondary"
            onClick={() => onChange(rows.filter((_, i) => i !== index))}
            disabled={rows.length <= minRows}
            aria-label={`Remove label ${index + 1}`}
          >
            Remove
          </Button>
        </div>
      ))}
      <Button variant="secondary" onClick={() => onChange([...rows, { name: '', hotkey: rows.length < 9 ? String(rows.length + 1) : '' }])}>
        Add a label
      </Button>
    </fieldset>
  );
}

/** Markdown instructions with a preview of what raters will see. */
export function InstructionsField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const [preview, setPreview] = useState(false);
  return (
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
          {value.trim() ? <Markdown>{value}</Markdown> : <p>Nothing to preview yet.</p>}
        </div>
      ) : (
        <textarea
          className="admin-form__textarea"
          name="instructions"
          aria-label="Instructions"
          rows={6}
          value={value}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </fieldset>
  );
}

export const splitList = (text: string) =>
  text
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
