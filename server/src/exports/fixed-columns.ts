import { answerColumns, type Answers, type Question } from '@backflow/questions';
import type { ExportRow, ExportValue, FeatureType } from './example-row';

/** A column every exported example of a project carries besides its input features: the fixed ones and its questions'. */
export interface ExportColumn {
  name: string;
  type: FeatureType;
  /** a list (int64_list of several values, a repeated Parquet column, a JSON array); otherwise one value */
  list: boolean;
  /** the schema says every example has it */
  required?: true;
  /** an answer a question that is not required may leave blank */
  optional?: true;
  /** the schema gives its domain: an index into a question's labels */
  domain?: { min: number; max: number };
  /** the row's values (none: the question was left unanswered) */
  values: (row: ExportRow) => ExportValue[] | undefined;
}

// a float answer past 2^53 reads back from the exact-integer JSON parser as a bigint: the same double
const asDouble = (value: number | string | bigint) => (typeof value === 'bigint' ? Number(value) : value);

/** The columns an exported example carries, in order, and the name each input feature is exported under. */
export interface ColumnLayout {
  readonly list: readonly ExportColumn[];
  exportedName(name: string): string;
}

/**
 * The columns of a project's exported examples, in the order every writer, the schema and the
 * CSV header use: prediction_id, model_version, each question's columns in question order (a
 * project of one label question named "label": label and label_name, as always), label_source,
 * weight, inclusion_probability. An input feature named like one of them is exported as `input_<name>`.
 */
export class ExportColumns implements ColumnLayout {
  readonly list: readonly ExportColumn[];
  private readonly names: ReadonlySet<string>;

  /**
   * Every label answers the routing question (a feedback label answers nothing else), so only its
   * columns are present in every example; another question's may be missing. `leaveOut` drops a
   * question's columns (a ranked list's context, whose items carry the grades), and `reserved`
   * names that an input feature must not take (it is exported as `input_<name>`).
   */
  constructor(questions: readonly Question[], routingQuestion: string, options: { leaveOut?: string; reserved?: readonly string[] } = {}) {
    const taken = answerColumns(questions).filter((column) => column.question !== options.leaveOut);
    const answers = taken.map((column): ExportColumn => {
      const always = column.question === routingQuestion;
      return {
        name: column.name,
        type: column.type,
        list: column.list,
        ...(always && !column.list && { required: true as const }),
        ...(!always && !column.list && { optional: true as const }),
        ...(column.domain && { domain: column.domain }),
        values: (row) => {
          const values = column.values(row.answers as Answers);
          return column.type === 'float' ? values?.map(asDouble) : values;
        },
      };
    });
    this.list = [
      { name: 'prediction_id', type: 'bytes', list: false, values: (row) => [row.predictionId] },
      { name: 'model_version', type: 'bytes', list: false, values: (row) => [row.modelVersion] },
      ...answers,
      { name: 'label_source', type: 'bytes', list: false, values: (row) => [row.source] },
      { name: 'weight', type: 'float', list: false, values: (row) => [row.weight] },
      { name: 'inclusion_probability', type: 'float', list: false, values: (row) => [row.inclusionProbability] },
    ];
    this.names = new Set([...this.list.map((column) => column.name), ...(options.reserved ?? [])]);
  }

  /** An input feature's exported name: `input_<name>` when a column has its name. */
  exportedName(name: string): string {
    return this.names.has(name) ? `input_${name}` : name;
  }
}
