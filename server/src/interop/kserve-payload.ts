import { SeldonData } from '@backflow/contracts';
import type { InferenceLoggerEvent, KserveSettings } from '@backflow/contracts';
import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';
import { flattenFeatures } from './nested-features';
import { timestampOf } from './timestamp';
import { uuidV5 } from './uuid-v5';

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

function readOutcomes(body: Record<string, unknown>, classes: string[], outputName: string | undefined, at: string): Outcomes | undefined {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  if (Array.isArray(body.predictions)) {
    const rows = within(at, 'predictions');
    return { outcomes: body.predictions.map((prediction, i) => outcomeOf(prediction, classes, `${rows}.${i}`)), at: rows };
  }
  if (Array.isArray(body.outputs)) {
    const tensors = body.outputs.map((output, k) => tensorOf(output, within(at, `outputs.${k}`)));
    const index = outputName
      ? tensors.findIndex((t) => t.name === outputName)
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
function seldonOutcomes(body: Record<string, unknown>, classes: string[], outputName: string | undefined): Outcomes {
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
    const read = readOutcomes(json, classes, outputName, 'jsonData');
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
export function outcomesOf(body: unknown, classes: string[], outputName?: string): Outcomes {
  if (!isObject(body)) throw InteropErrors.invalidPayload('response', RESPONSE_SHAPES);
  const read = readOutcomes(body, classes, outputName, '');
  if (read) return read;
  if (isSeldonMessage(body)) return seldonOutcomes(body, classes, outputName);
  throw InteropErrors.invalidPayload('response', RESPONSE_SHAPES);
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
 * ingestion API (the caller validates them exactly as it validates that API's).
 */
export function predictionsOfPair(request: LoggedHalf, response: LoggedHalf, settings: KserveSettings, projectLabels: string[]): unknown[] {
  const classes = settings.classes ?? projectLabels;
  const instances = instancesOf(request.body, settings);
  const { outcomes, at, modelName, modelVersion } = outcomesOf(response.body, classes, settings.output);
  if (outcomes.length !== instances.length) {
    throw InteropErrors.shapeMismatch(
      'response',
      `${outcomes.length} predictions for ${instances.length} instances of request ${pairIdOf(request.attributes)}`,
    );
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
    scores: scoresOf(outcomes[i], classes, `${at}.${i}`),
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
