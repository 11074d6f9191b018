// An example as a person reads it, laid out by the project (or by default): the text to read
// large, in its place; every other field a row, in the same place in every task (an image URL
// shows as the image). Where a field goes is decided by its name and the layout, never by the
// length of this task's value, so nothing jumps from task to task.
import { useState } from 'react';
import { arrangeFields, type TaskLayout } from '@backflow/contracts';
import './task-input.css';

const IMAGE_URL = /^https?:\/\/\S+\.(?:png|jpe?g|gif|webp|avif|svg)(?:\?\S*)?$/i;
// a row's value this long (or on several lines) reads in a box of its own that scrolls
const LONG_TEXT = 80;

type Value = unknown;

function isImage(value: Value): value is string {
  return typeof value === 'string' && IMAGE_URL.test(value);
}

function isLongText(value: Value): value is string {
  return typeof value === 'string' && (value.length > LONG_TEXT || value.includes('\n'));
}

function formatValue(value: Value): string {
  if (Array.isArray(value)) return value.map(formatValue).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, '');
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  // what else JSON holds: objects, shown as JSON
  return JSON.stringify(value);
}

/** An image of the input, or, when it does not load, a placeholder that says so and gives its address. */
function TaskImage({ url, name }: { url: string; name: string }) {
  const [failed, setFailed] = useState(false);
  if (failed)
    return (
      <div className="task-input__broken" data-testid="broken-image">
        <p className="task-input__broken-title">The image “{name}” could not be loaded.</p>
        <p>
          It may be missing, or on a site this page may not load images from. Its address: <code>{url}</code>
        </p>
      </div>
    );
  return <img src={url} alt={name} loading="eager" onError={() => setFailed(true)} />;
}

function FieldValue({ name, value }: { name: string; value: Value }) {
  if (isImage(value)) return <TaskImage key={value} url={value} name={name} />;
  if (isLongText(value))
    return (
      <div className="task-input__long" tabIndex={0} role="region" aria-label={name}>
        {value}
      </div>
    );
  return <>{formatValue(value)}</>;
}

function FieldRows({ fields, input, caption }: { fields: string[]; input: Record<string, Value>; caption: string }) {
  return (
    <table className="task-input__table">
      <caption className="visually-hidden">{caption}</caption>
      <tbody>
        {fields.map((key) => (
          <tr key={key} data-field={key} data-role="row">
            <th scope="row">{key}</th>
            <td>
              <FieldValue name={key} value={input[key]} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface TaskInputProps {
  input: Record<string, Value>;
  /** the project's layout (absent: the default: headings, then the text-like field, then the rest by name) */
  layout?: TaskLayout;
  /** fields a question shows itself (the text spans are marked in), left out here */
  shownElsewhere?: readonly string[];
}

export function TaskInput({ input, layout, shownElsewhere = [] }: TaskInputProps) {
  const names = Object.keys(input).filter((key) => !shownElsewhere.includes(key));
  if (names.length === 0 && shownElsewhere.length > 0) return null;
  const { before, primary, after } = arrangeFields(names, layout);
  const text = primary === null ? null : input[primary];

  return (
    <div className="task-input" data-testid="task-input">
      {before.length > 0 ? <FieldRows fields={before} input={input} caption={primary ? `Fields before ${primary}` : 'Fields'} /> : null}
      {primary !== null ? (
        <section className="task-input__text" aria-labelledby="task-input-primary" data-field={primary} data-role="primary">
          <h3 id="task-input-primary" className="task-input__key">
            {primary}
          </h3>
          {isImage(text) ? (
            <figure className="task-input__image">
              <TaskImage key={text} url={text} name={primary} />
            </figure>
          ) : (
            <div className="task-input__prose" tabIndex={0} role="region" aria-labelledby="task-input-primary">
              {formatValue(text)}
            </div>
          )}
        </section>
      ) : null}
      {after.length > 0 ? <FieldRows fields={after} input={input} caption={`Fields after ${primary}`} /> : null}
      {names.length === 0 ? <p className="task-input__empty">This example has no fields to show.</p> : null}
    </div>
  );
}
