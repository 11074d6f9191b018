import { DomainError } from '../common/errors';

export const InteropErrors = {
  missingAttribute: (attribute: string) =>
    new DomainError(
      'interop/missing_attribute',
      `ce-${attribute}: a CloudEvent in binary mode carries this header (or send it structured, as application/cloudevents+json)`,
      400,
      `ce-${attribute}`,
    ),
  invalidAttribute: (attribute: string, message: string) => new DomainError('interop/invalid_attribute', `ce-${attribute}: ${message}`, 400, `ce-${attribute}`),
  invalidPayload: (field: string, message: string) => new DomainError('interop/invalid_payload', `${field}: ${message}`, 400, field),
  shapeMismatch: (field: string, message: string) => new DomainError('interop/shape_mismatch', `${field}: ${message}`, 400, field),
  unknownClass: (field: string, value: unknown, classes: string[]) =>
    new DomainError(
      'interop/unknown_class',
      `${field}: ${JSON.stringify(value)?.slice(0, 80)} is not a class of this project (${classes.join(', ')})`,
      400,
      field,
    ),
  missingPuid: () =>
    new DomainError(
      'interop/missing_puid',
      "response.meta.puid: the feedback names the prediction it is about by the response's puid",
      400,
      'response.meta.puid',
    ),
  unsupportedQuestion: (question: string, message: string) =>
    new DomainError('interop/unsupported_question', `questions.${question}: ${message}`, 409, `questions.${question}`),
  tooManyTasks: (limit: number) =>
    new DomainError('interop/too_many_tasks', `body: an import holds at most ${limit} tasks; split the file`, 413, 'body', { limit }),
  duplicateTask: (field: string, first: number) =>
    new DomainError('interop/duplicate_task', `${field}: the same task as item ${first} (one prediction each); remove one of them`, 400, field),
  /**
   * A Label Studio result no question of the project takes (or, in a project of one label
   * question, anything but one choice): refused, never truncated or dropped.
   */
  unsupportedResult: (field: string, where: string, what: string, details: Record<string, unknown>, oneLabel = true) =>
    new DomainError(
      'interop/unsupported_result',
      `${field}: ${where}: ${what}. ${
        oneLabel
          ? 'This project asks one label question, so an answer is one choice'
          : "A result is stored as the answer to the project's question its from_name names, when it is of the type that question takes"
      }; the file was not imported, remove this result (or ask its question in the project) to import the rest`,
      400,
      field,
      details,
    ),
  /** A Label Studio answer its question refuses (a label it does not have, a number out of bounds, a span past the text…). */
  invalidAnswer: (field: string, where: string, message: string) =>
    new DomainError('interop/invalid_answer', `${field}: ${where}: ${message}; the file was not imported`, 400, field),
  /** A task without the model's output for a routing question that has no neutral one to stand in for it. */
  missingPrediction: (field: string, where: string, question: string, kind: string) =>
    new DomainError(
      'interop/missing_prediction',
      `${field}: ${where} has no model prediction for the routing question "${question}" (${kind}), and a ${kind} question has no output that says "unknown"; add the model's result to the task's predictions`,
      400,
      field,
    ),
  featureCollision: (field: string, name: string) =>
    new DomainError(
      'interop/feature_collision',
      `${field}: two fields name the feature "${name}" (a key with dots beside a nested object); rename one of them`,
      400,
      field,
    ),
};
