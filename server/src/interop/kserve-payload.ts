import type { InferenceLoggerEvent, KserveSettings } from '@backflow/contracts';
import { InteropErrors } from './interop.errors';
import { isObject } from './json-object';
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
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw InteropErrors.invalidPayload(`${field}.name`, 'a tensor name of 1 to 128 characters');
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw InteropErrors.invalidPayload(`${field}.shape`, 'a list of at most 8 non-negative integers');
  if (!Array.isArray(data)) throw InteropErrors.invalidPayload(`${field}.data`, 'a list');
  const flat = flatten(data);
  const rows = shape.length ? (shape[0] as number) : 1;
  const width = (shape as number[]).slice(1).reduce((a, b) => a * b, 1);
  // rows of no values would let a few bytes of shape stand for millions of instances
  if (width === 0 && rows > 0) throw InteropErrors.shapeMismatch(`${field}.shape`, 'each row holds at least one value');
  if (rows * width !== flat.length) throw InteropErrors.shapeMismatch(`${field}.data`, `shape ${JSON.stringify(shape)} holds ${rows * width} values, data has ${flat.length}`);
  return { name, rows, width, data: flat };
}

/** The instances of a V1 (`{"instances": [...]}`) or V2 (`{"inputs": [...]}`) request, with the project's feature names. */
export function instancesOf(body: unknown, settings: Pick<KserveSettings, 'features' | 'rename'>): Instances {
  if (!isObject(body)) throw InteropErrors.invalidPayload('request', 'a V1 {"instances": [...]} or V2 {"inputs": [...]} JSON object');
  const named = (position: number, fallback: string) => settings.features?.[position] ?? fallback;
  const renamed = (key: string) => (Object.hasOwn(settings.rename, key) ? settings.rename[key] : key);
  if (Array.isArray(body.instances)) {
    return body.instances.map((instance): Record<string, unknown> => {
      if (Array.isArray(instance)) return Object.fromEntries(instance.map((value, j) => [named(j, `f${j}`), value]));
      if (isObject(instance)) return Object.fromEntries(Object.entries(instance).map(([key, value]) => [renamed(key), value]));
      return { [named(0, 'f0')]: instance };
    });
  }
  if (Array.isArray(body.inputs)) {
    const tensors = body.inputs.map((input, k) => tensorOf(input, `inputs.${k}`));
    if (tensors.length === 0) throw InteropErrors.invalidPayload('inputs', 'at least one input');
    const rows = tensors[0].rows;
    const uneven = tensors.findIndex((t) => t.rows !== rows);
    if (uneven >= 0) throw InteropErrors.shapeMismatch(`inputs.${uneven}.shape`, `every input has the same batch size (${rows})`);
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
  throw InteropErrors.invalidPayload('request', 'a V1 {"instances": [...]} or V2 {"inputs": [...]} JSON object');
}

/** What the response says of each instance, for V1 (`{"predictions": [...]}`) and V2 (`{"outputs": [...]}`). */
export function outcomesOf(body: unknown, classes: string[], outputName?: string): { outcomes: Outcome[]; modelName?: string; modelVersion?: string } {
  if (!isObject(body)) throw InteropErrors.invalidPayload('response', 'a V1 {"predictions": [...]} or V2 {"outputs": [...]} JSON object');
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  if (Array.isArray(body.predictions)) {
    return {
      outcomes: body.predictions.map((prediction, i): Outcome => {
        if (Array.isArray(prediction)) {
          if (prediction.length === 1) return { class: prediction[0] };
          if (prediction.length !== classes.length || !prediction.every((p) => typeof p === 'number')) {
            throw InteropErrors.shapeMismatch(`predictions.${i}`, `a probability for each of the ${classes.length} classes (${classes.join(', ')})`);
          }
          return { probabilities: prediction };
        }
        if (isObject(prediction)) return { probabilities: classes.map((c) => (typeof prediction[c] === 'number' ? (prediction[c] as number) : 0)) };
        return { class: prediction };
      }),
    };
  }
  if (Array.isArray(body.outputs)) {
    const tensors = body.outputs.map((output, k) => tensorOf(output, `outputs.${k}`));
    const index = outputName ? tensors.findIndex((t) => t.name === outputName) : Math.max(0, tensors.findIndex((t) => t.width === classes.length));
    const tensor = tensors[index];
    if (!tensor) throw InteropErrors.invalidPayload('outputs', outputName ? `no output named "${outputName}" (the project's integrations.kserve.output)` : 'at least one output');
    if (tensor.width !== 1 && tensor.width !== classes.length) {
      throw InteropErrors.shapeMismatch(`outputs.${index}.shape`, `one class or a probability for each of the ${classes.length} classes per row, not ${tensor.width} values`);
    }
    const outcomes = Array.from({ length: tensor.rows }, (_, i): Outcome => {
      const row = tensor.data.slice(i * tensor.width, (i + 1) * tensor.width);
      if (tensor.width === 1 && classes.length !== 1) return { class: row[0] };
      if (!row.every((p) => typeof p === 'number')) throw InteropErrors.invalidPayload(`outputs.${index}.data`, 'probabilities are numbers');
      return { probabilities: row as number[] };
    });
    return { outcomes, modelName: text(body.model_name), modelVersion: text(body.model_version) };
  }
  throw InteropErrors.invalidPayload('response', 'a V1 {"predictions": [...]} or V2 {"outputs": [...]} JSON object');
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
  const { outcomes, modelName, modelVersion } = outcomesOf(response.body, classes, settings.output);
  if (outcomes.length !== instances.length) {
    throw InteropErrors.shapeMismatch('response', `${outcomes.length} predictions for ${instances.length} instances of request ${request.attributes.id}`);
  }
  const attributes = { ...response.attributes, ...request.attributes };
  const model = {
    name: settings.modelName ?? attributes.inferenceservicename ?? modelName ?? 'kserve',
    version: modelVersion ?? attributes.modelversion ?? settings.modelVersion ?? attributes.endpoint ?? 'unknown',
  };
  const timestamp = timestampOf(request.attributes.time);
  return instances.map((input, i) => ({
    id: predictionIdOf(request.attributes.id, i),
    model,
    input,
    scores: scoresOf(outcomes[i], classes, `predictions.${i}`),
    ...(attributes.endpoint ? { slice: { endpoint: attributes.endpoint } } : {}),
    ...(timestamp ? { timestamp } : {}),
    metadata: {
      kserve: {
        eventId: request.attributes.id,
        instance: i,
        ...(attributes.source && { source: attributes.source }),
        ...(attributes.inferenceservicename && { inferenceService: attributes.inferenceservicename }),
        ...(attributes.namespace && { namespace: attributes.namespace }),
      },
    },
  }));
}
