import { SeldonData } from '@backflow/contracts';
import type { InferenceLoggerEvent, KserveSettings, Question } from '@backflow/contracts';
import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';
import { flattenFeatures } from './nested-features';
import { timestampOf } from './timestamp';
import { uuidV5 } from '../common/ids/uuid-v5';

/** One logged half as it was received: its CloudEvent attributes and its JSON body. */
export interface LoggedHalf {
  attributes: InferenceLoggerEvent;
  body: unknown;
}

/** The instances of a request, each as its features by name. */
type Instances = Array<Record<string, unknown>>;

/** What a response says of each instance: a probability vector, or one class (an index or a name). */
type Outcome = { probabilities: number[] } | { class: unknown };

/** A nested array read row-major, as V2 allows `data` to be sent flat or nested. */
function flatten(value: unknown[], depth = 0): unknown[] {
  if (depth > 16) throw InteropErrors.invalidPayload('data', 'nested more than 16 levels');
  return value.some(Array.isArray) ? value.flatMap((v) => (Array.isArray(v) ? flatten(v, depth + 1) : [v])) : value;
}

interface Tensor {
  name: string;
  rows: number;
  width: number;
  data: unknown[];
}

/** A V2 (open inference protocol) tensor: `{name, shape, datatype, data}`; the first dimension is the batch. */
function tensorOf(raw: unknown, field: string): Tensor {
  if (!isObject(raw)) throw InteropErrors.invalidPayload(field, 'a tensor is an object {name, shape, datatype, data}');
  const { name, shape, data } = raw;
  if (typeof name !== 'string' || name.length === 0 || name.length > 128)
    throw InteropErrors.invalidPayload(`${field}.name`, 'a tensor name of 1 to 128 characters');
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw InteropErrors.invalidPayload(`${field}.shape`, 'a list of at most 8 non-negative integers');
  if (!Array.isArray(data)) throw InteropErrors.invalidPayload(`${field}.data`, 'a list');
  const flat = flatten(data);
  const rows = shape.length ? (shape[0] as number) : 1;
  const width = (shape as number[]).slice(1).reduce((a, b) => a * b, 1);
  // rows of no values would let a few bytes of shape stand for millions of instances
  if (width === 0 && rows > 0) throw InteropErrors.shapeMismatch(`${field}.shape`, 'each row holds at least one value');
  if (rows * width !== flat.length)
    throw InteropErrors.shapeMismatch(`${field}.data`, `shape ${JSON.stringify(shape)} holds ${rows * width} values, data has ${flat.length}`);
  return { name, rows, width, data: flat };
}

const REQUEST_SHAPES =
  'a V1 {"instances": [...]}, V2 {"inputs": [...]} or Seldon {"data": {"names", "ndarray" | "tensor"}} / {"strData": ...} / {"jsonData": ...} JSON object';
const RESPONSE_SHAPES =
  'a V1 {"predictions": [...]}, V2 {"outputs": [...]} or Seldon {"data": {"names", "ndarray" | "tensor"}} / {"strData": ...} / {"jsonData": ...} JSON object';

const within = (at: string, field: string) => (at ? `${at}.${field}` : field);

/** Whether a body is Seldon Core's SeldonMessage (its v1 protocol): it holds one of the message's payloads. */
const isSeldonMessage = (body: Record<string, unknown>) => ['data', 'strData', 'jsonData', 'binData', 'customData'].some((key) => Object.hasOwn(body, key));

interface SeldonRows {
  rows: unknown[];
  names?: string[];
  at: string;
}

/**
 * The rows of a SeldonMessage's payload (Seldon Core v1 `DefaultData`): `data.ndarray` as it
 * is, `data.tensor` cut by its shape (the first dimension is the batch), with `data.names`.
 */
function seldonRowsOf(body: Record<string, unknown>): SeldonRows | undefined {
  if (Object.hasOwn(body, 'binData') || Object.hasOwn(body, 'customData')) {
    const field = Object.hasOwn(body, 'binData') ? 'binData' : 'customData';
    throw InteropErrors.invalidPayload(field, 'a binary payload is not read: log data.ndarray, data.tensor, strData or jsonData');
  }
  if (!Object.hasOwn(body, 'data')) return undefined;
  const parsed = SeldonData.safeParse(body.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw InteropErrors.invalidPayload(['data', ...issue.path.map(String)].join('.'), issue.message);
  }
  const { names, ndarray, tensor } = parsed.data;
  if (names && new Set(names).size !== names.length) throw InteropErrors.invalidPayload('data.names', 'each name once');
  const named = names?.length ? names : undefined;
  if (ndarray && tensor) throw InteropErrors.invalidPayload('data', 'one of ndarray and tensor, not both');
  if (ndarray) return { rows: ndarray, names: named, at: 'data.ndarray' };
  if (tensor) {
    const { shape, values } = tensor;
    const rows = shape.length ? shape[0] : 1;
    const width = shape.slice(1).reduce((a, b) => a * b, 1);
    // rows of no values would let a few bytes of shape stand for millions of instances
    if (width === 0 && rows > 0) throw InteropErrors.shapeMismatch('data.tensor.shape', 'each row holds at least one value');
    if (rows * width !== values.length)
      throw InteropErrors.shapeMismatch('data.tensor.values', `shape ${JSON.stringify(shape)} holds ${rows * width} values, values has ${values.length}`);
    const cut = shape.length < 2 ? values : Array.from({ length: rows }, (_, i) => values.slice(i * width, (i + 1) * width));
    return { rows: cut, names: named, at: 'data.tensor.values' };
  }
  if (isObject(body.data) && Object.hasOwn(body.data, 'tftensor'))
    throw InteropErrors.invalidPayload('data.tftensor', 'a TensorFlow TensorProto is not read: log data.ndarray or data.tensor');
  throw InteropErrors.invalidPayload('data', 'Seldon data holds an ndarray or a tensor');
}

type Settings = Pick<KserveSettings, 'features' | 'rename'>;

/** Instances of V1 (`instances`, or Seldon's jsonData list): a list by position, a dict by its (flattened) keys, a scalar as one feature. */
function listedInstances(instances: unknown[], settings: Settings, at: string): Instances {
  const named = (position: number, fallback: string) => settings.features?.[position] ?? fallback;
  return instances.map((instance, i): Record<string, unknown> => {
    if (Array.isArray(instance)) return Object.fromEntries(instance.map((value, j) => [named(j, `f${j}`), value]));
    if (isObject(instance)) return renamedFeatures(flattenFeatures(instance, `${at}.${i}`), settings);
    return { [named(0, 'f0')]: instance };
  });
}

function renamedFeatures(features: Record<string, unknown>, settings: Settings): Record<string, unknown> {
  return Object.fromEntries(Object.entries(features).map(([key, value]) => [Object.hasOwn(settings.rename, key) ? settings.rename[key] : key, value]));
}

/** The instances of a request, read from any body the sink takes; `at` is where that body sits (inside Seldon's jsonData). */
function readInstances(body: Record<string, unknown>, settings: Settings, at: string): Instances | undefined {
  const named = (position: number, fallback: string) => settings.features?.[position] ?? fallback;
  const renamed = (key: string) => (Object.hasOwn(settings.rename, key) ? settings.rename[key] : key);
  if (Array.isArray(body.instances)) return listedInstances(body.instances, settings, within(at, 'instances'));
  if (Array.isArray(body.inputs)) {
    const tensors = body.inputs.map((input, k) => tensorOf(input, within(at, `inputs.${k}`)));
    if (tensors.length === 0) throw InteropErrors.invalidPayload(within(at, 'inputs'), 'at least one input');
    const rows = tensors[0].rows;
    const uneven = tensors.findIndex((t) => t.rows !== rows);
    if (uneven >= 0) throw InteropErrors.shapeMismatch(within(at, `inputs.${uneven}.shape`), `every input has the same batch size (${rows})`);
    const instances: Instances = Array.from({ length: rows }, () => ({}));
    let column = 0;
    for (const tensor of tensors) {
      const base = renamed(tensor.name);
      for (let j = 0; j < tensor.width; j++, column++) {
        const name = named(column, tensor.width === 1 ? base : `${base}_${j}`);
        for (let i = 0; i < rows; i++) instances[i][name] = tensor.data[i * tensor.width + j];
      }
    }
    return instances;
  }
  return undefined;
}

/**
 * A SeldonMessage request: ndarray or tensor rows whose values are named by `data.names`
 * (then `rename`; without names, as V1 lists), `strData` as one text feature, and `jsonData`
 * read as V1 or V2 where it holds `instances` or `inputs`, as a list of instances, or as one
 * instance (an object of features, or a scalar).
 */
function seldonInstances(body: Record<string, unknown>, settings: Settings): Instances {
  const seldon = seldonRowsOf(body);
  if (seldon) {
    const { rows, names, at } = seldon;
    if (!names) return listedInstances(rows, settings, at);
    return rows.map((row, i) => {
      if (isObject(row)) return renamedFeatures(flattenFeatures(row, `${at}.${i}`), settings);
      const values = Array.isArray(row) ? row : [row];
      if (values.length !== names.length) throw InteropErrors.shapeMismatch(`${at}.${i}`, `${values.length} values for the ${names.length} data.names`);
      return Object.fromEntries(values.map((value, j) => [Object.hasOwn(settings.rename, names[j]) ? settings.rename[names[j]] : names[j], value]));
    });
  }
  if (Object.hasOwn(body, 'strData')) {
    if (typeof body.strData !== 'string') throw InteropErrors.invalidPayload('strData', 'a string');
    return [{ [settings.features?.[0] ?? 'text']: body.strData }];
  }
  const json = body.jsonData;
  if (isObject(json)) return readInstances(json, settings, 'jsonData') ?? [renamedFeatures(flattenFeatures(json, 'jsonData'), settings)];
  if (Array.isArray(json)) return listedInstances(json, settings, 'jsonData');
  if (typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean') return listedInstances([json], settings, 'jsonData');
  throw InteropErrors.invalidPayload(
    'jsonData',
    'a request\'s jsonData is read as {"instances": [...]}, {"inputs": [...]}, a list of instances, an object of features or one value; not null',
  );
}

/** The instances of a V1 (`{"instances": [...]}`), V2 (`{"inputs": [...]}`) or Seldon (SeldonMessage) request, with the project's feature names. */
export function instancesOf(body: unknown, settings: Settings): Instances {
  if (!isObject(body)) throw InteropErrors.invalidPayload('request', REQUEST_SHAPES);
  const read = readInstances(body, settings, '');
  if (read) return read;
  if (isSeldonMessage(body)) return seldonInstances(body, settings);
  throw InteropErrors.invalidPayload('request', REQUEST_SHAPES);
}

/** What the response says of each instance, and where its rows are in the body (for errors). */
interface Outcomes {
  outcomes: Outcome[];
  at: string;
  modelName?: string;
  modelVersion?: string;
}

/** One V1 prediction: a probability vector, a single class (a name, an index, or a binary model's P), or a dict of scores. */
function outcomeOf(prediction: unknown, classes: string[], field: string): Outcome {
  if (Array.isArray(prediction)) {
    if (prediction.length === 1) return { class: prediction[0] };
    if (prediction.length !== classes.length || !prediction.every((p) => typeof p === 'number')) {
      throw InteropErrors.shapeMismatch(field, `a probability for each of the ${classes.length} classes (${classes.join(', ')})`);
    }
    return { probabilities: prediction };
  }
  if (isObject(prediction)) return { probabilities: classes.map((c) => (typeof prediction[c] === 'number' ? prediction[c] : 0)) };
  return { class: prediction };
}

/**
 * `preferred` (a multi-label project's routing question) names the V2 output to read when no
 * `output` is configured and one has that name.
 */
function readOutcomes(body: Record<string, unknown>, classes: string[], outputName: string | undefined, at: string, preferred?: string): Outcomes | undefined {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  if (Array.isArray(body.predictions)) {
    const rows = within(at, 'predictions');
    return { outcomes: body.predictions.map((prediction, i) => outcomeOf(prediction, classes, `${rows}.${i}`)), at: rows };
  }
  if (Array.isArray(body.outputs)) {
    const tensors = body.outputs.map((output, k) => tensorOf(output, within(at, `outputs.${k}`)));
    const named = preferred === undefined ? -1 : tensors.findIndex((t) => t.name === preferred);
    const index = outputName
      ? tensors.findIndex((t) => t.name === outputName)
      : named >= 0
        ? named
        : Math.max(
            0,
            tensors.findIndex((t) => t.width === classes.length),
          );
    const tensor = tensors[index];
    if (!tensor)
      throw InteropErrors.invalidPayload(
        within(at, 'outputs'),
        outputName ? `no output named "${outputName}" (the project's integrations.kserve.output)` : 'at least one output',
      );
    if (tensor.width !== 1 && tensor.width !== classes.length) {
      throw InteropErrors.shapeMismatch(
        within(at, `outputs.${index}.shape`),
        `one class or a probability for each of the ${classes.length} classes per row, not ${tensor.width} values`,
      );
    }
    const outcomes = Array.from({ length: tensor.rows }, (_, i): Outcome => {
      const row = tensor.data.slice(i * tensor.width, (i + 1) * tensor.width);
      if (tensor.width === 1 && classes.length !== 1) return { class: row[0] };
      if (!row.every((p) => typeof p === 'number')) throw InteropErrors.invalidPayload(within(at, `outputs.${index}.data`), 'probabilities are numbers');
      return { probabilities: row };
    });
    return { outcomes, at: within(at, `outputs.${index}.data`), modelName: text(body.model_name), modelVersion: text(body.model_version) };
  }
  return undefined;
}

/**
 * A SeldonMessage response: ndarray or tensor rows read as V1 predictions, their columns
 * ordered by `data.names` when those are the classes (Seldon's own `t:0, t:1, …` are read by
 * position); `strData` as one class name; `jsonData` as V1 or V2 where it holds `predictions`
 * or `outputs`, a list of predictions, `{class: probability}` or one class, refused otherwise.
 */
function seldonOutcomes(body: Record<string, unknown>, classes: string[], outputName: string | undefined, preferred?: string): Outcomes {
  const seldon = seldonRowsOf(body);
  if (seldon) {
    const { rows, names, at } = seldon;
    const byName = names && names.length === classes.length && classes.every((c) => names.includes(c)) ? classes.map((c) => names.indexOf(c)) : undefined;
    return {
      outcomes: rows.map((row, i) =>
        outcomeOf(
          byName && Array.isArray(row) && row.length === classes.length ? byName.map((k): unknown => (row as unknown[])[k]) : row,
          classes,
          `${at}.${i}`,
        ),
      ),
      at,
    };
  }
  if (Object.hasOwn(body, 'strData')) {
    if (typeof body.strData !== 'string') throw InteropErrors.invalidPayload('strData', 'a string');
    return { outcomes: [{ class: body.strData.trim() }], at: 'strData' };
  }
  const json = body.jsonData;
  if (isObject(json)) {
    const read = readOutcomes(json, classes, outputName, 'jsonData', preferred);
    if (read) return read;
    const entries = Object.entries(json);
    if (entries.length && entries.every(([key, value]) => classes.includes(key) && typeof value === 'number'))
      return { outcomes: [outcomeOf(json, classes, 'jsonData')], at: 'jsonData' };
  }
  if (Array.isArray(json)) return { outcomes: json.map((prediction, i) => outcomeOf(prediction, classes, `jsonData.${i}`)), at: 'jsonData' };
  if (typeof json === 'string' || typeof json === 'number') return { outcomes: [{ class: json }], at: 'jsonData' };
  const held = isObject(json)
    ? `an object of ${
        Object.keys(json)
          .slice(0, 5)
          .map((k) => JSON.stringify(k))
          .join(', ') || 'no keys'
      }`
    : (JSON.stringify(json) ?? 'nothing');
  throw InteropErrors.invalidPayload(
    'jsonData',
    `a response's jsonData is read as {"predictions": [...]}, {"outputs": [...]}, a list of predictions, {class: probability} over ${classes.join(', ')}, or one class; it holds ${held.slice(0, 200)}`,
  );
}

/** What the response says of each instance, for V1 (`{"predictions": [...]}`), V2 (`{"outputs": [...]}`) and Seldon (SeldonMessage). */
export function outcomesOf(body: unknown, classes: string[], outputName?: string, preferred?: string): Outcomes {
  if (!isObject(body)) throw InteropErrors.invalidPayload('response', RESPONSE_SHAPES);
  const read = readOutcomes(body, classes, outputName, '', preferred);
  if (read) return read;
  if (isSeldonMessage(body)) return seldonOutcomes(body, classes, outputName, preferred);
  throw InteropErrors.invalidPayload('response', RESPONSE_SHAPES);
}

/** A number model's output for one instance: its value and, when the model sends them, a standard deviation or a (95%) interval. */
export interface NumberOutcome {
  value: number;
  std?: number;
  interval?: [number, number];
}

interface NumberOutcomes {
  outcomes: NumberOutcome[];
  at: string;
  modelName?: string;
  modelVersion?: string;
}

const NUMBER_ROW = 'a number, [number] or {"value": number, "std"?: number, "interval"?: [low, high]}';

/** One V1 (or Seldon) prediction of a number model: a number, a one-number list, or `{value, std?, interval?}`. */
function numberRow(row: unknown, field: string): NumberOutcome {
  if (typeof row === 'number') return { value: row };
  if (Array.isArray(row) && row.length === 1 && typeof row[0] === 'number') return { value: row[0] };
  if (isObject(row) && typeof row.value === 'number') {
    const { value, std, interval } = row;
    if (std !== undefined && typeof std !== 'number') throw InteropErrors.invalidPayload(`${field}.std`, 'a number');
    if (interval !== undefined && !(Array.isArray(interval) && interval.length === 2 && interval.every((x) => typeof x === 'number')))
      throw InteropErrors.invalidPayload(`${field}.interval`, '[low, high]: two numbers');
    return { value, ...(std !== undefined ? { std } : {}), ...(interval !== undefined ? { interval: interval as [number, number] } : {}) };
  }
  throw InteropErrors.invalidPayload(field, `${NUMBER_ROW}, not ${JSON.stringify(row)?.slice(0, 80)}`);
}

/** The settings that name a number model's V2 outputs. */
type NumberSettings = Pick<KserveSettings, 'output' | 'std' | 'interval'>;

/**
 * A number model's V2 outputs: the value is the output named `output`, else the one named after
 * the routing question, else the first one value wide not named `…_std` or `…_interval`; its
 * standard deviation the output named `std` (else `<value output>_std`, when there is one), its
 * interval the output named `interval` (else `<value output>_interval`), two values a row.
 */
function numberTensors(outputs: unknown[], settings: NumberSettings, question: string, at: string): Omit<NumberOutcomes, 'modelName' | 'modelVersion'> {
  const tensors = outputs.map((output, k) => tensorOf(output, within(at, `outputs.${k}`)));
  const spread = (name: string) => name.endsWith('_std') || name.endsWith('_interval') || name === settings.std || name === settings.interval;
  let index = tensors.findIndex((t) => t.name === (settings.output ?? question));
  if (index < 0 && settings.output)
    throw InteropErrors.invalidPayload(within(at, 'outputs'), `no output named "${settings.output}" (the project's integrations.kserve.output)`);
  if (index < 0) index = tensors.findIndex((t) => t.width === 1 && !spread(t.name));
  if (index < 0)
    throw InteropErrors.invalidPayload(within(at, 'outputs'), `an output of one value per row, named "${question}" (or integrations.kserve.output)`);
  const value = tensors[index];
  if (value.width !== 1) throw InteropErrors.shapeMismatch(within(at, `outputs.${index}.shape`), `one value per row, not ${value.width}`);
  const numbers = (k: number) => {
    if (!tensors[k].data.every((x) => typeof x === 'number')) throw InteropErrors.invalidPayload(within(at, `outputs.${k}.data`), 'numbers');
    return tensors[k].data;
  };
  const companion = (configured: string | undefined, suffix: string, width: number) => {
    const name = configured ?? `${value.name}${suffix}`;
    const k = tensors.findIndex((t) => t.name === name);
    if (k < 0) {
      if (configured)
        throw InteropErrors.invalidPayload(
          within(at, 'outputs'),
          `no output named "${configured}" (the project's integrations.kserve${suffix.replace('_', '.')})`,
        );
      return undefined;
    }
    if (tensors[k].rows !== value.rows || tensors[k].width !== width)
      throw InteropErrors.shapeMismatch(
        within(at, `outputs.${k}.shape`),
        `[${value.rows}, ${width}]: ${width === 1 ? 'one value' : 'low and high'} for each of the ${value.rows} rows`,
      );
    return numbers(k);
  };
  const values = numbers(index);
  const std = companion(settings.std, '_std', 1);
  const interval = companion(settings.interval, '_interval', 2);
  return {
    outcomes: values.map((v, i) => ({
      value: v,
      ...(std ? { std: std[i] } : {}),
      ...(interval ? { interval: [interval[2 * i], interval[2 * i + 1]] as [number, number] } : {}),
    })),
    at: within(at, `outputs.${index}.data`),
  };
}

function readNumbers(body: Record<string, unknown>, settings: NumberSettings, question: string, at: string): NumberOutcomes | undefined {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  if (Array.isArray(body.predictions)) {
    const rows = within(at, 'predictions');
    return { outcomes: body.predictions.map((row, i) => numberRow(row, `${rows}.${i}`)), at: rows };
  }
  if (Array.isArray(body.outputs))
    return { ...numberTensors(body.outputs, settings, question, at), modelName: text(body.model_name), modelVersion: text(body.model_version) };
  return undefined;
}

/**
 * What a number model (a rating or numeric routing question) says of each instance: V1
 * `{"predictions": [12.5, …]}` (or `[{value, std?, interval?}]`), V2 outputs (`numberTensors`),
 * Seldon ndarray or tensor rows of one value, or its jsonData read as V1 or V2.
 */
export function numberOutcomesOf(body: unknown, settings: NumberSettings, question: string): NumberOutcomes {
  if (!isObject(body)) throw InteropErrors.invalidPayload('response', RESPONSE_SHAPES);
  const read = readNumbers(body, settings, question, '');
  if (read) return read;
  if (isSeldonMessage(body)) {
    const seldon = seldonRowsOf(body);
    if (seldon) return { outcomes: seldon.rows.map((row, i) => numberRow(row, `${seldon.at}.${i}`)), at: seldon.at };
    const json = body.jsonData;
    if (isObject(json)) {
      const nested = readNumbers(json, settings, question, 'jsonData');
      if (nested) return nested;
      return { outcomes: [numberRow(json, 'jsonData')], at: 'jsonData' };
    }
    if (Array.isArray(json)) return { outcomes: json.map((row, i) => numberRow(row, `jsonData.${i}`)), at: 'jsonData' };
    if (typeof json === 'number') return { outcomes: [{ value: json }], at: 'jsonData' };
    throw InteropErrors.invalidPayload(Object.hasOwn(body, 'strData') ? 'strData' : 'jsonData', `a number model's output: ${NUMBER_ROW}`);
  }
  throw InteropErrors.invalidPayload('response', RESPONSE_SHAPES);
}

/** The suggestion of a number question, as the ingestion API takes it. */
const numberSuggestion = (outcome: NumberOutcome) => ({
  value: outcome.value,
  ...(outcome.std !== undefined ? { std: outcome.std } : {}),
  ...(outcome.interval !== undefined ? { interval: outcome.interval } : {}),
});

/** What a response says of each instance, as the prediction's model output for the routing question. */
interface ResponseOutputs {
  count: number;
  at: string;
  modelName?: string;
  modelVersion?: string;
  /** the model output of instance i, in the ingestion API's shape (`scores`, or `suggestions`); may refuse an unknown class */
  output: (i: number) => Record<string, unknown>;
}

/**
 * A response read for the project's routing question: class scores for a label question (as
 * ever) or a multi-label one (one independent probability per label; the V2 output named after
 * the question first), a value with its spread for a rating or numeric question. A text or
 * spans question's output is not read from the logger: its halves are refused.
 */
export function responseOutputsOf(body: unknown, settings: KserveSettings, projectLabels: string[], routing?: Question): ResponseOutputs {
  checkReadable(routing);
  if (routing && (routing.kind === 'rating' || routing.kind === 'numeric')) {
    const read = numberOutcomesOf(body, settings, routing.name);
    return { ...read, count: read.outcomes.length, output: (i) => ({ suggestions: { [routing.name]: numberSuggestion(read.outcomes[i]) } }) };
  }
  const classes = settings.classes ?? projectLabels;
  const read = outcomesOf(body, classes, settings.output, routing?.kind === 'multi_label' ? routing.name : undefined);
  return { ...read, count: read.outcomes.length, output: (i) => ({ scores: scoresOf(read.outcomes[i], classes, `${read.at}.${i}`) }) };
}

/** A routing question whose model output the sink reads; either half of another is refused (it could never make a prediction). */
export function checkReadable(routing: Question | undefined): void {
  if (routing && (routing.kind === 'text' || routing.kind === 'spans' || routing.kind === 'ranking' || routing.kind === 'generation'))
    throw InteropErrors.invalidPayload(
      'body',
      `the project's routing question "${routing.name}" is ${routing.kind}: the inference logger is read for label, multi_label, rating and numeric questions; send its predictions to the ingestion API with suggestions`,
    );
}

/** Class scores from one outcome: probabilities as they are, a single class as certainty. */
export function scoresOf(outcome: Outcome, classes: string[], field: string): Record<string, number> {
  if ('probabilities' in outcome) return Object.fromEntries(classes.map((c, k) => [c, outcome.probabilities[k]]));
  const value = outcome.class;
  let chosen: string | undefined;
  if (typeof value === 'string') chosen = classes.includes(value) ? value : undefined;
  else if (typeof value === 'number' && Number.isInteger(value)) chosen = classes[value];
  else if (typeof value === 'number' && classes.length === 2 && value >= 0 && value <= 1) return { [classes[0]]: 1 - value, [classes[1]]: value }; // a binary model's P(positive)
  if (chosen === undefined) throw InteropErrors.unknownClass(field, value, classes);
  return Object.fromEntries(classes.map((c) => [c, c === chosen ? 1 : 0]));
}

/**
 * The id that pairs a request with its response: Seldon's `ce-requestid` (its puid; each of its
 * events has its own ce-id), else the `ce-id` KServe gives both halves.
 */
export const pairIdOf = (attributes: Pick<InferenceLoggerEvent, 'id' | 'requestid'>): string => attributes.requestid ?? attributes.id;

/** The id of the prediction made of instance `index` of a logged request: the same event always gives the same id. */
export function predictionIdOf(eventId: string, index: number): string {
  return uuidV5(`kserve:${eventId}:${index}`);
}

/**
 * The predictions a paired request and response make: one per instance, in the shape of the
 * ingestion API (the caller validates them exactly as it validates that API's). `routing` is
 * the project's routing question (absent: a label question over `projectLabels`).
 */
export function predictionsOfPair(request: LoggedHalf, response: LoggedHalf, settings: KserveSettings, projectLabels: string[], routing?: Question): unknown[] {
  const instances = instancesOf(request.body, settings);
  const { count, output, modelName, modelVersion } = responseOutputsOf(response.body, settings, projectLabels, routing);
  if (count !== instances.length) {
    throw InteropErrors.shapeMismatch('response', `${count} predictions for ${instances.length} instances of request ${pairIdOf(request.attributes)}`);
  }
  const attributes = { ...response.attributes, ...request.attributes };
  const model = {
    name: settings.modelName ?? attributes.inferenceservicename ?? modelName ?? 'kserve',
    version: modelVersion ?? attributes.modelversion ?? settings.modelVersion ?? attributes.endpoint ?? 'unknown',
  };
  const timestamp = timestampOf(request.attributes.time);
  const eventId = pairIdOf(request.attributes);
  return instances.map((input, i) => ({
    id: predictionIdOf(eventId, i),
    model,
    input,
    ...output(i),
    ...(attributes.endpoint ? { slice: { endpoint: attributes.endpoint } } : {}),
    ...(timestamp ? { timestamp } : {}),
    metadata: {
      kserve: {
        eventId,
        instance: i,
        ...(attributes.source && { source: attributes.source }),
        ...(attributes.inferenceservicename && { inferenceService: attributes.inferenceservicename }),
        ...(attributes.namespace && { namespace: attributes.namespace }),
        ...(attributes.modelid && { modelId: attributes.modelid }),
      },
    },
  }));
}
