import type { Question, QuestionBody } from '@backflow/contracts';
import { Button } from '../../../ui/button';
import { TextField } from '../../../ui/text-field';
import { fromLabelRows, LabelRowsField, type LabelRow } from './project-fields';

type QuestionKind = Question['kind'];

export const KIND_NAMES: Record<QuestionKind, string> = {
  label: 'One label',
  multi_label: 'Several labels',
  rating: 'A rating on a scale',
  numeric: 'A number',
  text: 'A text',
  spans: 'Spans in a text field',
  ranking: 'Relevance grades of a ranked list',
  generation: 'A corrected response of a generative model',
  preference: 'The better of two responses',
};

export interface PointRow {
  value: string;
  name: string;
  hotkey: string;
}

/** A question as the form holds it: every kind's settings, so switching kinds keeps what was typed. */
export interface QuestionRow {
  name: string;
  kind: QuestionKind;
  required: boolean;
  description: string;
  labels: LabelRow[];
  points: PointRow[];
  min: string;
  max: string;
  integer: boolean;
  unit: string;
  maxLength: string;
  prefill: boolean;
  field: string;
  allowOverlap: boolean;
  /** a ranking's relevance scale */
  grades: PointRow[];
  maxItems: string;
  k: string;
  /** a preference's generation question */
  of: string;
}

const DEFAULT_POINTS = ['very poor', 'poor', 'fair', 'good', 'very good'].map((name, i) => ({ value: String(i + 1), name, hotkey: '' }));
const DEFAULT_GRADES = ['bad', 'fair', 'good', 'perfect'].map((name, i) => ({ value: String(i), name, hotkey: '' }));

const pointsOf = (rows: readonly PointRow[]) =>
  rows
    .filter((p) => p.name.trim() || p.value.trim())
    .map((p) => ({ value: Number(p.value), name: p.name.trim(), ...(p.hotkey.trim() ? { hotkey: p.hotkey.trim() } : {}) }));

export function newQuestionRow(index: number): QuestionRow {
  return {
    name: index === 0 ? 'label' : `question_${index + 1}`,
    kind: 'label',
    required: true,
    description: '',
    labels: [
      { name: '', hotkey: '1' },
      { name: '', hotkey: '2' },
    ],
    points: DEFAULT_POINTS,
    min: '',
    max: '',
    integer: false,
    unit: '',
    maxLength: '10000',
    prefill: true,
    field: 'text',
    allowOverlap: true,
    grades: DEFAULT_GRADES,
    maxItems: '50',
    k: '10',
    of: '',
  };
}

const numberOrUndefined = (text: string) => (text.trim() === '' ? undefined : Number(text));

/** The questions as `POST /projects` takes them: only the settings of each question's kind. */
export function toQuestions(rows: readonly QuestionRow[]): QuestionBody[] {
  return rows.map((row): QuestionBody => {
    const base = { name: row.name.trim(), required: row.required, ...(row.description.trim() ? { description: row.description.trim() } : {}) };
    switch (row.kind) {
      case 'label':
      case 'multi_label':
        return { ...base, kind: row.kind, labels: fromLabelRows(row.labels) };
      case 'rating':
        return {
          ...base,
          kind: 'rating',
          points: pointsOf(row.points),
        };
      case 'numeric': {
        const [min, max] = [numberOrUndefined(row.min), numberOrUndefined(row.max)];
        return {
          ...base,
          kind: 'numeric',
          integer: row.integer,
          ...(min !== undefined ? { min } : {}),
          ...(max !== undefined ? { max } : {}),
          ...(row.unit.trim() ? { unit: row.unit.trim() } : {}),
        };
      }
      case 'text':
        return { ...base, kind: 'text', maxLength: Number(row.maxLength), prefill: row.prefill };
      case 'spans':
        return { ...base, kind: 'spans', field: row.field.trim(), labels: fromLabelRows(row.labels), allowOverlap: row.allowOverlap };
      case 'ranking':
        return { ...base, kind: 'ranking', grades: pointsOf(row.grades), maxItems: Number(row.maxItems), k: Number(row.k) };
      case 'generation':
        return { ...base, kind: 'generation', maxLength: Number(row.maxLength) };
      case 'preference':
        return { ...base, kind: 'preference', of: row.of.trim() };
    }
  });
}

function Check({ label, checked, onChange, name }: { label: string; checked: boolean; onChange: (checked: boolean) => void; name: string }) {
  return (
    <label className="admin-form__check">
      <input type="checkbox" name={name} checked={checked} onChange={(event) => onChange(event.target.checked)} /> {label}
    </label>
  );
}

function PointRows({
  rows,
  onChange,
  prefix,
  what = 'point',
  legend = 'Points of the scale, lowest first (keys 1–9 by position unless given)',
}: {
  rows: PointRow[];
  onChange: (rows: PointRow[]) => void;
  prefix: string;
  what?: string;
  legend?: string;
}) {
  const set = (index: number, patch: Partial<PointRow>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset className="admin-form__group">
      <legend>{legend}</legend>
      {rows.map((point, index) => (
        <div key={index} className="point-row">
          <TextField
            label="Value"
            name={`${prefix}${what}-${index}-value`}
            type="number"
            value={point.value}
            onChange={(e) => set(index, { value: e.target.value })}
          />
          <TextField
            label={`${what === 'point' ? 'Point' : 'Grade'} ${index + 1}`}
            name={`${prefix}${what}-${index}-name`}
            value={point.name}
            onChange={(e) => set(index, { name: e.target.value })}
          />
          <TextField
            label="Hotkey"
            name={`${prefix}${what}-${index}-hotkey`}
            value={point.hotkey}
            maxLength={1}
            onChange={(e) => set(index, { hotkey: e.target.value })}
          />
          <Button
            variant="secondary"
            onClick={() => onChange(rows.filter((_, i) => i !== index))}
            disabled={rows.length <= 2}
            aria-label={`Remove ${what} ${index + 1}`}
          >
            Remove
          </Button>
        </div>
      ))}
      <Button
        variant="secondary"
        onClick={() => onChange([...rows, { value: String((Number(rows[rows.length - 1]?.value) || rows.length) + 1), name: '', hotkey: '' }])}
        disabled={rows.length >= 11}
      >
        Add a {what}
      </Button>
    </fieldset>
  );
}

function KindSettings({ row, set, prefix }: { row: QuestionRow; set: (patch: Partial<QuestionRow>) => void; prefix: string }) {
  switch (row.kind) {
    case 'label':
    case 'multi_label':
      return (
        <LabelRowsField
          rows={row.labels}
          onChange={(labels) => set({ labels })}
          namePrefix={prefix}
          minRows={row.kind === 'label' ? 2 : 1}
          legend={row.kind === 'label' ? 'Labels and their hotkeys (one is chosen)' : 'Labels and their hotkeys (any may be chosen, or none)'}
        />
      );
    case 'rating':
      return <PointRows rows={row.points} onChange={(points) => set({ points })} prefix={prefix} />;
    case 'numeric':
      return (
        <div className="admin-form__row">
          <TextField
            label="Smallest"
            name={`${prefix}min`}
            type="number"
            hint="Empty: no bound."
            value={row.min}
            onChange={(e) => set({ min: e.target.value })}
          />
          <TextField
            label="Largest"
            name={`${prefix}max`}
            type="number"
            hint="Empty: no bound."
            value={row.max}
            onChange={(e) => set({ max: e.target.value })}
          />
          <TextField
            label="Unit"
            name={`${prefix}unit`}
            hint="Shown beside the box, e.g. kg."
            value={row.unit}
            onChange={(e) => set({ unit: e.target.value })}
          />
          <Check label="Whole numbers only" name={`${prefix}integer`} checked={row.integer} onChange={(integer) => set({ integer })} />
        </div>
      );
    case 'preference':
      return (
        <div className="admin-form__row">
          <TextField
            label="Compares the responses of"
            name={`${prefix}of`}
            hint="The generation question whose first two responses raters compare."
            value={row.of}
            onChange={(e) => set({ of: e.target.value })}
          />
        </div>
      );
    case 'generation':
      return (
        <div className="admin-form__row">
          <TextField
            label="Longest response (characters)"
            name={`${prefix}maxLength`}
            type="number"
            min={1}
            hint="Responses and corrections; raters start from the model’s first response."
            value={row.maxLength}
            onChange={(e) => set({ maxLength: e.target.value })}
          />
        </div>
      );
    case 'text':
      return (
        <div className="admin-form__row">
          <TextField
            label="Longest answer (characters)"
            name={`${prefix}maxLength`}
            type="number"
            min={1}
            value={row.maxLength}
            onChange={(e) => set({ maxLength: e.target.value })}
          />
          <Check
            label="Start from the model’s text when it sent one"
            name={`${prefix}prefill`}
            checked={row.prefill}
            onChange={(prefill) => set({ prefill })}
          />
        </div>
      );
    case 'spans':
      return (
        <>
          <div className="admin-form__row">
            <TextField
              label="Text field"
              name={`${prefix}field`}
              hint="The input field whose text raters mark."
              value={row.field}
              onChange={(e) => set({ field: e.target.value })}
            />
            <Check label="Spans may overlap" name={`${prefix}allowOverlap`} checked={row.allowOverlap} onChange={(allowOverlap) => set({ allowOverlap })} />
          </div>
          <LabelRowsField rows={row.labels} onChange={(labels) => set({ labels })} namePrefix={prefix} minRows={1} legend="Span labels and their hotkeys" />
        </>
      );
    case 'ranking':
      return (
        <>
          <div className="admin-form__row">
            <TextField
              label="Longest list"
              name={`${prefix}maxItems`}
              type="number"
              min={1}
              max={200}
              hint="Candidates one prediction may carry."
              value={row.maxItems}
              onChange={(e) => set({ maxItems: e.target.value })}
            />
            <TextField
              label="Top k"
              name={`${prefix}k`}
              type="number"
              min={1}
              max={200}
              hint="Uncertainty reads the top k scores; NDCG@k stops there."
              value={row.k}
              onChange={(e) => set({ k: e.target.value })}
            />
          </div>
          <PointRows
            rows={row.grades}
            onChange={(grades) => set({ grades })}
            prefix={prefix}
            what="grade"
            legend="Relevance grades, lowest first (a grade of 0–9 is keyed by its value unless given)"
          />
        </>
      );
  }
}

export interface QuestionsEditorProps {
  rows: QuestionRow[];
  onChange: (rows: QuestionRow[]) => void;
  /** the routing question's name */
  routing: string;
  onRoutingChange: (name: string) => void;
}

/** The questions raters answer on each task, in order, and the one the model's output is for. */
export function QuestionsEditor({ rows, onChange, routing, onRoutingChange }: QuestionsEditorProps) {
  const set = (index: number, patch: Partial<QuestionRow>) => onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  const names = rows.map((row) => row.name.trim()).filter(Boolean);
  return (
    <div className="questions-editor" data-testid="questions-editor">
      {rows.map((row, index) => {
        const prefix = `q${index}-`;
        return (
          <fieldset key={index} className="question-editor" aria-label={`Question ${index + 1}`}>
            <legend>Question {index + 1}</legend>
            <div className="admin-form__row">
              <TextField
                label="Name"
                name={`${prefix}name`}
                hint="A lowercase identifier: it names the exported column."
                value={row.name}
                onChange={(e) => set(index, { name: e.target.value })}
              />
              <label className="admin-form__select">
                Kind
                <select name={`${prefix}kind`} value={row.kind} onChange={(e) => set(index, { kind: e.target.value as QuestionKind })}>
                  {(Object.keys(KIND_NAMES) as QuestionKind[]).map((kind) => (
                    <option key={kind} value={kind}>
                      {KIND_NAMES[kind]}
                    </option>
                  ))}
                </select>
              </label>
              <Check label="Required" name={`${prefix}required`} checked={row.required} onChange={(required) => set(index, { required })} />
            </div>
            <TextField
              label="Description"
              name={`${prefix}description`}
              hint="Optional: shown to raters above the question."
              value={row.description}
              onChange={(e) => set(index, { description: e.target.value })}
            />
            <KindSettings row={row} set={(patch) => set(index, patch)} prefix={prefix} />
            <div>
              <Button variant="secondary" onClick={() => onChange(rows.filter((_, i) => i !== index))} disabled={rows.length <= 1}>
                Remove question {index + 1}
              </Button>
            </div>
          </fieldset>
        );
      })}
      <div className="admin-form__actions">
        <Button variant="secondary" onClick={() => onChange([...rows, newQuestionRow(rows.length)])} disabled={rows.length >= 50}>
          Add a question
        </Button>
      </div>
      <label className="admin-form__select">
        The question the model’s output is for (routing)
        <select name="routingQuestion" value={names.includes(routing) ? routing : (names[0] ?? '')} onChange={(e) => onRoutingChange(e.target.value)}>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
