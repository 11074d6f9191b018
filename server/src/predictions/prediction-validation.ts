import { MAX_JSON_DEPTH, PredictionInput, RejectedItem, type Question } from '@backflow/contracts';
import { argmaxLabel, checkSuggestions, confidenceOf, notNormalizedMessage, predictedText, scoresFault, takesScores } from '@backflow/questions';
import { predictionKey } from '../common/ids/prediction-key';
import { findJsonHazard } from '../common/validation/json-hazards';
import { codeOf, fieldOf } from '../common/validation/zod-validation.pipe';
import { parseCommonPrediction } from './prediction-fast-path';
import { instantOf } from '../common/database/time-partitions';

/** What the database stores for one prediction, after validation against its project. */
export interface PredictionRow {
  /** the key: the caller's UUID, or the UUID version 5 of the caller's id (ADR 0043) */
  id: string;
  /** the caller's id when it is not the key's text (a request id, an upper-case UUID); null otherwise */
  externalId: string | null;
  modelName: string;
  modelVersion: string;
  input: Record<string, unknown>;
  scores: Record<string, number>;
  /** the routing question's output as text (see `answerText`) */
  predictedLabel: string;
  confidence: number;
  /** the model's output for any question, by name, as each kind checked it */
  suggestions: Record<string, unknown> | null;
  /** other models' class scores for the same input, by member name (champion, challenger, shadow): a committee */
  committee: Record<string, Record<string, number>> | null;
  /** the input's embedding (stored as float32) */
  embedding: number[] | null;
  /** the routing question's output: what routing scores */
  routingOutput: unknown;
  slice: Record<string, string>;
  metadata: Record<string, unknown> | null;
  occurredAt: Date;
  /** false when the prediction came without a timestamp and took its arrival time (its id is then looked for on the day before too) */
  timestamped?: boolean;
}

export type DeclaredFeatureType = 'int' | 'float' | 'bytes';

export interface ProjectLabels {
  /** the project's id: the namespace a caller's own prediction ids are keyed in */
  projectId: string;
  /** the routing question's labels (for a label or multi-label question) */
  labels: string[];
  questions: Question[];
  routing: Question;
  /** the export's declared feature types (project settings `export.features`): a value that does not fit is refused */
  features?: ReadonlyArray<{ name: string; type: DeclaredFeatureType }>;
}

export interface ValidationOptions {
  /** the raw text held no escape that can make a NUL or a lone surrogate and no number that can underflow: the per-value walk is skipped */
  valuesChecked?: boolean;
}

export type Verdict = { ok: true; row: PredictionRow } | { ok: false; rejection: Omit<RejectedItem, 'index'> };

// predictions stamped further ahead than this are a clock or unit bug (seconds vs milliseconds)
const MAX_FUTURE_MS = 24 * 3600 * 1000;

// a batch checks every item against one ProjectLabels (built per batch, never changed): its label set is built once
const labelSets = new WeakMap<ProjectLabels, Set<string>>();

function labelSet(project: ProjectLabels): Set<string> {
  let known = labelSets.get(project);
  if (!known) labelSets.set(project, (known = new Set(project.labels)));
  return known;
}

const declaredTypes = new WeakMap<ProjectLabels, Map<string, DeclaredFeatureType>>();

function declaredTypesOf(project: ProjectLabels): Map<string, DeclaredFeatureType> | undefined {
  if (!project.features?.length) return undefined;
  let types = declaredTypes.get(project);
  if (!types) declaredTypes.set(project, (types = new Map(project.features.map((f) => [f.name, f.type]))));
  return types;
}

function reject(code: string, field: string, message: string): Verdict {
  return { ok: false, rejection: { code, field, message: `${field}: ${message}` } };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether one value fits a declared export type: an int takes whole numbers (and booleans), a float any number (and booleans). */
function fitsType(value: unknown, type: DeclaredFeatureType): boolean {
  if (type === 'bytes' || typeof value === 'boolean') return true;
  return typeof value === 'number' && (type === 'float' || Number.isInteger(value));
}

/** A feature value past ±(2^53 − 1), or that does not fit its declared type; `index` is its place in a list (-1: a scalar). */
function valueRejection(item: unknown, type: DeclaredFeatureType | undefined, name: string, index: number): Verdict | undefined {
  const field = () => (index < 0 ? `input.${name}` : `input.${name}.${index}`);
  // a float feature takes any double; elsewhere an integral one past 2^53 was rounded by the JSON reader
  if (typeof item === 'number' && type !== 'float' && Number.isInteger(item) && !Number.isSafeInteger(item)) {
    return reject('predictions/unsafe_integer', field(), `an integer beyond ±(2^53 − 1) (read as ${item}) cannot be kept exactly; send it as a string`);
  }
  if (type && !fitsType(item, type)) {
    return reject(
      'predictions/feature_type_mismatch',
      field(),
      `${JSON.stringify(item)} does not fit the declared type ${type} of feature "${name}" (project settings export.features)`,
    );
  }
  return undefined;
}

/** The first feature value past ±(2^53 − 1), or that does not fit the project's declared type. */
function featureRejection(input: Record<string, unknown>, types: Map<string, DeclaredFeatureType> | undefined): Verdict | undefined {
  for (const name in input) {
    const value = input[name];
    const type = types?.get(name);
    if (!Array.isArray(value)) {
      const rejection = valueRejection(value, type, name, -1);
      if (rejection) return rejection;
      continue;
    }
    for (let i = 0; i < value.length; i++) {
      const rejection = valueRejection(value[i], type, name, i);
      if (rejection) return rejection;
    }
  }
  return undefined;
}

/**
 * Checks one prediction: the nesting of its metadata (before anything reads it recursively),
 * text PostgreSQL cannot store and numbers that underflowed a double, its shape (the shared
 * contract; a fast path answers for the plainly valid), integers JSON rounds and values that do not fit a declared feature type, then
 * the project's rules on scores and labels.
 */
export function validatePrediction(raw: unknown, project: ProjectLabels, newId: () => string, now = new Date(), options: ValidationOptions = {}): Verdict {
  const metadata = isObject(raw) ? raw.metadata : undefined;
  if (typeof metadata === 'object' && metadata !== null) {
    const hazard = findJsonHazard(metadata, { maxDepth: MAX_JSON_DEPTH, integers: true }, 'metadata');
    if (hazard) return { ok: false, rejection: { ...hazard, code: hazard.code === 'unsafe_integer' ? 'predictions/unsafe_integer' : hazard.code } };
  }
  // before the shape: a number that underflowed a double is named as such, not as a value of the wrong type
  if (!options.valuesChecked) {
    const hazard = findJsonHazard(raw, { text: true });
    if (hazard) return { ok: false, rejection: hazard };
  }
  let p = parseCommonPrediction(raw);
  if (p === undefined) {
    const parsed = PredictionInput.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return reject(codeOf(issue), fieldOf(issue), issue.message);
    }
    p = parsed.data;
  }
  const features = featureRejection(p.input, declaredTypesOf(project));
  if (features) return features;
  let suggestions: Record<string, unknown> | null = null;
  if (p.suggestions !== undefined) {
    const checked = checkSuggestions(project.questions, p.suggestions, { input: p.input });
    if (!checked.ok) return reject('predictions/invalid_suggestion', ['suggestions', ...checked.issue.path].join('.'), checked.issue.message);
    suggestions = checked.value;
  }
  const routing = project.routing;
  let routingOutput: unknown = suggestions?.[routing.name];
  if (p.scores !== undefined) {
    if (!takesScores(routing))
      return reject(
        'predictions/invalid_scores',
        'scores',
        `the routing question "${routing.name}" is ${routing.kind}: send its output as suggestions.${routing.name}`,
      );
    const scored = scoresRejection(p.scores, project);
    if (scored) return scored;
    routingOutput = { ...(routingOutput as object), scores: p.scores };
  }
  if (p.predictedLabel !== undefined) {
    if (routing.kind !== 'label')
      return reject('predictions/invalid_suggestion', 'predictedLabel', `a label question's choice; "${routing.name}" is ${routing.kind}`);
    if (!labelSet(project).has(p.predictedLabel))
      return reject('predictions/unknown_label', 'predictedLabel', `"${p.predictedLabel}" is not one of the project's labels`);
    routingOutput = { ...(routingOutput as object), value: p.predictedLabel };
  }
  if (routingOutput === undefined) {
    return takesScores(routing)
      ? reject('predictions/invalid_scores', 'scores', 'at least one class score is needed')
      : reject('predictions/invalid_suggestion', `suggestions.${routing.name}`, `the model's output for the routing question "${routing.name}" is needed`);
  }
  let predictedLabel: string;
  let confidence: number;
  if (routing.kind === 'label' && p.scores !== undefined) {
    // the common case, a classifier's scores: read directly, as the label kind would
    predictedLabel = p.predictedLabel ?? argmaxLabel(p.scores, project.labels);
    confidence = p.scores[predictedLabel] ?? 0;
  } else {
    predictedLabel = predictedText(routing, routingOutput);
    confidence = confidenceOf(routing, routingOutput);
  }
  let committee: Record<string, Record<string, number>> | null = null;
  if (p.committee !== undefined) {
    if (routing.kind !== 'label')
      return reject('predictions/invalid_scores', 'committee', `a committee scores the labels of a label question; "${routing.name}" is ${routing.kind}`);
    for (const [member, scores] of Object.entries(p.committee)) {
      const fault = scoresRejection(scores, project);
      if (fault && !fault.ok)
        return reject(fault.rejection.code, `committee.${member}${fault.rejection.field.slice('scores'.length)}`, fault.rejection.message);
    }
    committee = p.committee;
  }
  const occurredAt = p.timestamp ? instantOf(p.timestamp) : now;
  if (occurredAt.getTime() - now.getTime() > MAX_FUTURE_MS)
    return reject('predictions/timestamp_in_future', 'timestamp', 'more than a day ahead of the server clock');
  const key = p.id === undefined ? { id: newId(), externalId: null } : predictionKey(project.projectId, p.id);
  return {
    ok: true,
    row: {
      id: key.id,
      externalId: key.externalId,
      modelName: p.model.name,
      modelVersion: p.model.version,
      input: p.input,
      scores: p.scores ?? (routingOutput as { scores?: Record<string, number> }).scores ?? {},
      predictedLabel,
      confidence,
      suggestions,
      committee,
      embedding: p.embedding ?? null,
      routingOutput,
      slice: p.slice ?? {},
      metadata: p.metadata ?? null,
      occurredAt,
      timestamped: Boolean(p.timestamp),
    },
  };
}

/** What is wrong with the routing question's class scores (`scoresFault`), as capture refuses it. */
function scoresRejection(scores: Record<string, number>, project: ProjectLabels): Verdict | undefined {
  const fault = scoresFault(scores, labelSet(project), project.routing.kind === 'label');
  switch (fault?.fault) {
    case undefined:
      return undefined;
    case 'unknown_label':
      return reject('predictions/unknown_label', `scores.${fault.label}`, `"${fault.label}" is not one of the project's labels (${project.labels.join(', ')})`);
    case 'not_probability':
      return reject('predictions/invalid_scores', `scores.${fault.label}`, 'a score must be a finite probability in [0, 1]');
    case 'empty':
      return reject('predictions/invalid_scores', 'scores', 'at least one class score is needed');
    case 'not_normalized':
      return reject('predictions/scores_not_normalized', 'scores', notNormalizedMessage(fault));
  }
}
