import { encodeExampleListWithContext, type ExampleFeatures } from '@backflow/tfrecord';
import type { Candidate, Question, RankingSuggestion } from '@backflow/questions';
import { featureValues, toExample, typedFeatures, ValueTally, type ExportRow, type ExportValue, type FeatureSpec } from './example-row';
import type { Examination } from './exports.repository';
import { ExportColumns, type ColumnLayout, type ExportColumn } from './fixed-columns';

type RankingQuestion = Extract<Question, { kind: 'ranking' }>;

/** What a ranked list's candidate adds to its list's row in a per-item example. */
export interface ListItem {
  item: string;
  position: number;
  score: number;
  /** the label's grade of the item (undefined: the label left it ungraded) */
  grade: number | undefined;
  /** the examination probability at its position (undefined: no estimate for it) */
  examination: number | undefined;
  /** the list's weight, over the examination probability when the grade comes from clicks */
  propensityWeight: number;
}

/** What a version's manifest says of a ranking's lists. */
export interface ManifestRanking {
  question: string;
  /** candidates written (a list's count in every list format) */
  candidates: number;
  /** the examination per position click-derived grades were weighted by, as estimated when the version was opened */
  examination: Examination | null;
  itemFeatures: Array<{ name: string; type: FeatureSpec['type']; leftOut: { notFitting: number; nullInList: number } }>;
  warnings: string[];
}

/** A per-item row: the list's row, its input joined by the item's features under internal names, and the item. */
type ItemRow = ExportRow & { listItem: ListItem };

// an item feature's name inside a row: PostgreSQL's jsonb holds no U+0000, so no input field has it
const INTERNAL = '\u0000item\u0000';

/**
 * How a span's ranked lists are written: the list's context (the row's columns without the
 * ranking's answer, and its input features) and, per candidate in the order shown, the item, its
 * grade, position, score, the examination probability at its position and the propensity weight,
 * and its item features as `item_<name>`. ELWC holds a list in one record (the context and one
 * example per candidate); the per-item formats write the context and the candidate flat, one
 * row per candidate.
 */
export class RankedLists {
  /** the context's columns: an input feature named like an item column is exported as `input_<name>` */
  readonly context: ColumnLayout;
  /** a per-item row's columns: the context's, then the item's */
  readonly items: ColumnLayout;
  /** the item features by their internal names (a per-item row's features are the input's, then these) */
  readonly itemFeatures: FeatureSpec[];
  readonly itemTally: ValueTally;
  private readonly itemColumns: ExportColumn[];
  private readonly examination: Map<number, number>;
  private readonly clickSources: ReadonlySet<string> = new Set(['feedback']);
  private readonly worked = new WeakMap<ExportRow, ExportRow[]>();
  /** candidates written (each once, whatever the formats) */
  candidates = 0;
  /** candidates graded from clicks at a position with no examination estimate (weighted as if examined) */
  clicksUnweighted = 0;

  constructor(
    readonly question: RankingQuestion,
    private readonly questions: readonly Question[],
    private readonly routingQuestion: string,
    private readonly itemFeatureFits: ReadonlyMap<string, number>,
    readonly estimate: Examination | null,
  ) {
    this.itemFeatures = typedFeatures(itemFeatureFits).map((f) => ({ name: `${INTERNAL}${f.name}`, type: f.type }));
    this.itemTally = new ValueTally(this.itemFeatures.length);
    this.examination = new Map((estimate?.positions ?? []).map((p) => [p.position, p.value]));
    const item = (row: ExportRow) => (row as ItemRow).listItem;
    this.itemColumns = [
      { name: `${question.name}_item`, type: 'bytes', list: false, required: true, values: (row) => [item(row).item] },
      {
        name: `${question.name}_grade`,
        type: 'int',
        list: false,
        optional: true,
        values: (row) => (item(row).grade === undefined ? undefined : [item(row).grade!]),
      },
      { name: 'position', type: 'int', list: false, required: true, values: (row) => [item(row).position] },
      { name: 'score', type: 'float', list: false, required: true, values: (row) => [item(row).score] },
      {
        name: 'examination',
        type: 'float',
        list: false,
        optional: true,
        values: (row) => (item(row).examination === undefined ? undefined : [item(row).examination!]),
      },
      { name: 'propensity_weight', type: 'float', list: false, required: true, values: (row) => [item(row).propensityWeight] },
    ];
    const itemNames = [...this.itemColumns.map((c) => c.name), ...this.itemFeatures.map((f) => this.itemFeatureName(f.name))];
    const context = new ExportColumns(questions, routingQuestion, { leaveOut: question.name, reserved: itemNames });
    this.context = context;
    const list = [...context.list, ...this.itemColumns];
    this.items = {
      list,
      exportedName: (name) => (name.startsWith(INTERNAL) ? this.itemFeatureName(name) : context.exportedName(name)),
    };
  }

  /** The same lists with nothing counted yet (a span written again from its first row). */
  fresh(): RankedLists {
    return new RankedLists(this.question, this.questions, this.routingQuestion, this.itemFeatureFits, this.estimate);
  }

  /** An item feature's exported name: `item_<name>`. */
  private itemFeatureName(internal: string): string {
    return `item_${internal.slice(INTERNAL.length)}`;
  }

  /** The item features as the manifest names them: exported name, type, values left out. */
  private itemFeatureReport(): ManifestRanking['itemFeatures'] {
    return this.itemFeatures.map((f, i) => ({
      name: this.itemFeatureName(f.name),
      type: f.type,
      leftOut: { notFitting: this.itemTally.notFitting[i], nullInList: this.itemTally.nullInList[i] },
    }));
  }

  /** What the manifest says of the lists: the question, the estimate the clicks were weighted by, the candidates and item features. */
  report(): ManifestRanking {
    const itemFeatures = this.itemFeatureReport();
    const warnings: string[] = [];
    if (this.clicksUnweighted)
      warnings.push(
        this.estimate
          ? `${this.clicksUnweighted} candidates graded from clicks at positions the examination estimate has no value for: weighted as if examined`
          : `no examination estimate when this version was opened: ${this.clicksUnweighted} candidates graded from clicks are weighted as if every position were examined (GET …/monitoring/clicks or the scheduled evaluation estimates it)`,
      );
    for (const f of itemFeatures) {
      if (f.leftOut.notFitting) warnings.push(`item feature "${f.name}": ${f.leftOut.notFitting} values left out, not ${f.type} exactly`);
      if (f.leftOut.nullInList) warnings.push(`item feature "${f.name}": ${f.leftOut.nullInList} nulls inside a list left out (a tf.Example list holds none)`);
    }
    return { question: this.question.name, candidates: this.candidates, examination: this.estimate, itemFeatures, warnings };
  }

  /** A list's candidates in the order shown, each with its grade, examination and weight. */
  private listItems(row: ExportRow): Array<{ candidate: Candidate; listItem: ListItem }> {
    const answer = row.answers[this.question.name];
    const grades = new Map(Array.isArray(answer) ? (answer as Array<{ item: string; grade: number }>).map((g) => [g.item, g.grade]) : []);
    const fromClicks = this.clickSources.has(row.source);
    const shown = (row.output as Partial<RankingSuggestion> | undefined)?.candidates;
    return [...(Array.isArray(shown) ? shown : [])]
      .sort((a, b) => a.position - b.position)
      .map((candidate) => {
        const examination = this.examination.get(candidate.position);
        return {
          candidate,
          listItem: {
            item: candidate.item,
            position: candidate.position,
            score: candidate.score,
            grade: grades.get(candidate.item),
            examination,
            // a rater saw every candidate; a click was seen with the examination probability of its position
            propensityWeight: fromClicks && examination !== undefined ? row.weight / examination : row.weight,
          },
        };
      });
  }

  /**
   * The per-item rows of a list's row (its input features' values already worked out by the
   * span's writer), worked out once for every format that writes them.
   */
  itemRows(row: ExportRow, inputFeatures: readonly FeatureSpec[]): ExportRow[] {
    let rows = this.worked.get(row);
    if (!rows) this.worked.set(row, (rows = this.workOut(row, inputFeatures)));
    return rows;
  }

  private workOut(row: ExportRow, inputFeatures: readonly FeatureSpec[]): ExportRow[] {
    const inputValues = row.values ?? [];
    const items = this.listItems(row);
    this.candidates += items.length;
    if (row.source === 'feedback') for (const { listItem } of items) if (listItem.examination === undefined) this.clicksUnweighted++;
    return items.map(({ candidate, listItem }) => {
      const input: Record<string, unknown> = { ...row.input };
      const itemValues: ExportValue[][] = this.itemFeatures.map((f, i) => {
        const value = candidate.features?.[f.name.slice(INTERNAL.length)];
        if (value !== undefined) input[f.name] = value;
        return featureValues(value, f.type, this.itemTally, i);
      });
      const itemRow: ItemRow = { ...row, input, values: [...inputValues.slice(0, inputFeatures.length), ...itemValues], listItem };
      return itemRow;
    });
  }

  /** A list as TensorFlow Ranking's ExampleListWithContext: the context, then one example per candidate in the order shown. */
  elwc(row: ExportRow, inputFeatures: readonly FeatureSpec[]): Uint8Array {
    const context = toExample(row, inputFeatures, this.context);
    const examples = this.itemRows(row, inputFeatures).map((itemRow) => {
      const example: ExampleFeatures = {};
      const all = toExample(itemRow, [...inputFeatures, ...this.itemFeatures], this.items);
      for (const column of this.itemColumns) if (all[column.name]) example[column.name] = all[column.name];
      for (const f of this.itemFeatures) {
        const name = this.itemFeatureName(f.name);
        if (all[name]) example[name] = all[name];
      }
      return example;
    });
    return encodeExampleListWithContext(context, examples);
  }
}
