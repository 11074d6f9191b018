// An example as a person reads it: long text as text (whitespace kept, scrolling), image URLs as
// images, every other feature in a compact table.

const IMAGE_URL = /^https?:\/\/\S+\.(?:png|jpe?g|gif|webp|avif|svg)(?:\?\S*)?$/i;
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

/** `shownElsewhere`: fields a question shows itself (the text spans are marked in), left out here. */
export function TaskInput({ input, shownElsewhere = [] }: { input: Record<string, Value>; shownElsewhere?: readonly string[] }) {
  const entries = Object.entries(input).filter(([key]) => !shownElsewhere.includes(key));
  if (entries.length === 0 && shownElsewhere.length > 0) return null;
  const texts = entries.filter(([, value]) => isLongText(value) && !isImage(value));
  const images = entries.filter(([, value]) => isImage(value));
  const features = entries.filter(([, value]) => !isLongText(value) && !isImage(value));

  return (
    <div className="task-input" data-testid="task-input">
      {texts.map(([key, value]) => (
        <section key={key} className="task-input__text" aria-label={key}>
          <h3 className="task-input__key">{key}</h3>
          <div className="task-input__prose" tabIndex={0}>
            {value as string}
          </div>
        </section>
      ))}
      {images.map(([key, value]) => (
        <figure key={key} className="task-input__image">
          <img src={value as string} alt={key} loading="eager" />
          <figcaption>{key}</figcaption>
        </figure>
      ))}
      {features.length > 0 ? (
        <table className="task-input__table">
          <caption className="visually-hidden">Features</caption>
          <tbody>
            {features.map(([key, value]) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <td>{formatValue(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {entries.length === 0 ? <p className="task-input__empty">This example has no fields to show.</p> : null}
    </div>
  );
}
