import type { SeldonMessage } from '@backflow/contracts';
import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';

// the rows one feedback message may speak for
const MAX_ROWS = 1_000;

/** The rows of a SeldonMessage's payload: `data.ndarray`, `data.tensor` (row-major), `strData` or `jsonData`. */
function rowsOf(message: SeldonMessage, field: string): { rows: unknown[]; names?: string[]; at: string } {
  const data = message.data;
  if (data?.ndarray) return { rows: data.ndarray, names: data.names, at: `${field}.data.ndarray` };
  if (data?.tensor) {
    const { shape, values } = data.tensor;
    const rows = shape.length ? shape[0] : 1;
    const width = shape.slice(1).reduce((a, b) => a * b, 1);
    // checked before the rows are made: a shape alone could ask for billions of them
    if (rows > MAX_ROWS) throw InteropErrors.invalidPayload(`${field}.data.tensor.shape`, `at most ${MAX_ROWS.toLocaleString('en')} rows`);
    if (width === 0 && rows > 0) throw InteropErrors.shapeMismatch(`${field}.data.tensor.shape`, 'each row holds at least one value');
    if (rows * width !== values.length)
      throw InteropErrors.shapeMismatch(`${field}.data.tensor.values`, `shape ${JSON.stringify(shape)} holds ${rows * width} values, not ${values.length}`);
    return {
      rows: Array.from({ length: rows }, (_, i) => (width === 1 && shape.length < 2 ? values[i] : values.slice(i * width, (i + 1) * width))),
      names: data.names,
      at: `${field}.data.tensor`,
    };
  }
  if (typeof message.strData === 'string') return { rows: [message.strData], at: `${field}.strData` };
  if (Array.isArray(message.jsonData)) return { rows: message.jsonData, at: `${field}.jsonData` };
  if (message.jsonData !== undefined && !isObject(message.jsonData)) return { rows: [message.jsonData], at: `${field}.jsonData` };
  throw InteropErrors.invalidPayload(field, 'a SeldonMessage with data.ndarray, data.tensor, strData or jsonData');
}

/** The class one row names: a class name, a class index, or a vector (one-hot or probabilities) whose largest entry is the class. */
function classOfRow(row: unknown, classes: string[], field: string): string {
  const value: unknown = Array.isArray(row) && row.length === 1 ? row[0] : row;
  if (typeof value === 'string' && classes.includes(value)) return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < classes.length) return classes[value];
  if (Array.isArray(value) && value.length === classes.length && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    let best = 0;
    for (let k = 1; k < value.length; k++) if ((value[k] as number) > (value[best] as number)) best = k;
    return classes[best];
  }
  throw InteropErrors.unknownClass(field, value, classes);
}

/** The true class of each row of Seldon's `truth` message; `data.names`, when they are the project's classes, order the columns. */
export function truthLabelsOf(truth: SeldonMessage, classes: string[]): string[] {
  const { rows, names, at } = rowsOf(truth, 'truth');
  if (rows.length === 0) throw InteropErrors.invalidPayload(at, 'at least one row');
  if (rows.length > MAX_ROWS) throw InteropErrors.invalidPayload(at, `at most ${MAX_ROWS.toLocaleString('en')} rows`);
  const columns = names && names.length === classes.length && names.every((n) => classes.includes(n)) ? names : classes;
  return rows.map((row, i) => classOfRow(row, columns, `${at}.${i}`));
}

/** Seldon's request id (puid): set on the response's meta by the executor, and on the request's. */
export function puidOf(feedback: { response?: SeldonMessage; request?: SeldonMessage; truth?: SeldonMessage }): string {
  const puid = feedback.response?.meta?.puid ?? feedback.request?.meta?.puid ?? feedback.truth?.meta?.puid;
  if (!puid) throw InteropErrors.missingPuid();
  return puid;
}

/** The rows a message's payload holds, read from its shape (never by making them); undefined when it has none. */
function rowCountOfMessage(message: SeldonMessage | undefined): number | undefined {
  const data = message?.data;
  if (data?.ndarray) return data.ndarray.length;
  if (data?.tensor) return data.tensor.shape.length ? data.tensor.shape[0] : 1;
  if (typeof message?.strData === 'string') return 1;
  if (Array.isArray(message?.jsonData)) return message.jsonData.length;
  if (message?.jsonData !== undefined && !isObject(message.jsonData)) return 1;
  return undefined;
}

/** How many rows the logged request had, when the feedback carries it (at most 1,000); otherwise one. */
export function rowCountOf(feedback: { request?: SeldonMessage; response?: SeldonMessage }): number {
  const rows = rowCountOfMessage(feedback.response) ?? rowCountOfMessage(feedback.request);
  return rows === undefined ? 1 : Math.max(1, Math.min(MAX_ROWS, rows));
}
