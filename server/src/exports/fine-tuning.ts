import type { GenerationSuggestion, Message, PreferenceAnswer, Question } from '@backflow/questions';
import type { ExampleFeatures, FeatureValue } from '@backflow/tfrecord';
import { jsonText, type ExportRow } from './example-row';

type GenerationQuestion = Extract<Question, { kind: 'generation' }>;
type PreferenceQuestion = Extract<Question, { kind: 'preference' }>;

type Chat = Array<{ role: string; content: string }>;

/** One example of a fine-tuning shape, before it is written as JSON or as a tf.Example. */
type Shaped =
  | { shape: 'sft'; messages: Chat }
  | { shape: 'dpo'; prompt: Chat; chosen: { text: string; version: string | undefined }; rejected: { text: string; version: string | undefined } };

export const FINE_TUNING_FORMATS = ['sft_jsonl', 'dpo_jsonl', 'sft_tfrecord', 'dpo_tfrecord'] as const;
export type FineTuningFormat = (typeof FINE_TUNING_FORMATS)[number];
export const isFineTuningFormat = (format: string): format is FineTuningFormat => (FINE_TUNING_FORMATS as readonly string[]).includes(format);

const bytes = (values: string[]): FeatureValue => ({ kind: 'bytes', values });

/**
 * A generative project's labels in the shapes fine-tuning reads:
 * - `sft_jsonl`: `{"messages": [...the conversation, {"role": "assistant", "content": <the corrected response>}]}`,
 *   the chat shape of supervised fine-tuning (TRL's SFTTrainer, OpenAI's fine-tuning files);
 * - `dpo_jsonl`: `{"prompt": [...the conversation], "chosen": [{"role": "assistant", "content": …}], "rejected": […]}`,
 *   TRL's conversational preference shape (DPOTrainer), one line per preference that names a
 *   better response (a tie or both bad says nothing to learn from, and is left out);
 * - `sft_tfrecord`, `dpo_tfrecord`: the same examples as tf.Example in the span layout, a chat as
 *   two parallel bytes lists (`messages_role`, `messages_content`; `prompt_role`, `prompt_content`),
 *   the DPO responses as `chosen` and `rejected` with their model versions, and the row formats'
 *   `prediction_id`, `model_version`, `label_source`, `weight` and `inclusion_probability`.
 */
export class FineTuning {
  constructor(
    readonly generation: GenerationQuestion,
    readonly preference: PreferenceQuestion | undefined,
  ) {}

  private shaped(shape: 'sft' | 'dpo', row: ExportRow): Shaped | undefined {
    const output = row.output as Partial<GenerationSuggestion> | undefined;
    const conversation: Chat = (output?.messages ?? []).map((m: Message) => ({ role: m.role, content: m.content }));
    if (shape === 'sft') {
      const corrected = row.answers[this.generation.name];
      return typeof corrected === 'string' ? { shape, messages: [...conversation, { role: 'assistant', content: corrected }] } : undefined;
    }
    if (!this.preference) return undefined;
    const answer = row.answers[this.preference.name] as PreferenceAnswer | undefined;
    const responses = output?.responses ?? [];
    if (!answer || (answer.preferred !== 'first' && answer.preferred !== 'second') || responses.length < 2) return undefined;
    const [chosen, rejected] = answer.preferred === 'first' ? [responses[0], responses[1]] : [responses[1], responses[0]];
    return {
      shape,
      prompt: conversation,
      chosen: { text: chosen.text, version: chosen.model?.version },
      rejected: { text: rejected.text, version: rejected.model?.version },
    };
  }

  /** The JSON lines of a row in a JSONL shape: none when the row has nothing of that shape. */
  lines(format: 'sft_jsonl' | 'dpo_jsonl', row: ExportRow): string[] {
    const example = this.shaped(format === 'sft_jsonl' ? 'sft' : 'dpo', row);
    if (!example) return [];
    if (example.shape === 'sft') return [`${jsonText({ messages: example.messages })}\n`];
    return [
      `${jsonText({
        prompt: example.prompt,
        chosen: [{ role: 'assistant', content: example.chosen.text }],
        rejected: [{ role: 'assistant', content: example.rejected.text }],
      })}\n`,
    ];
  }

  /** The tf.Examples of a row in a tf.Example shape: none when the row has nothing of that shape. */
  examples(format: 'sft_tfrecord' | 'dpo_tfrecord', row: ExportRow): ExampleFeatures[] {
    const example = this.shaped(format === 'sft_tfrecord' ? 'sft' : 'dpo', row);
    if (!example) return [];
    const about: ExampleFeatures = {
      prediction_id: bytes([row.predictionId]),
      model_version: bytes([row.modelVersion]),
      label_source: bytes([row.source]),
      weight: { kind: 'float', values: [row.weight] },
      inclusion_probability: { kind: 'float', values: [row.inclusionProbability] },
    };
    if (example.shape === 'sft')
      return [{ messages_role: bytes(example.messages.map((m) => m.role)), messages_content: bytes(example.messages.map((m) => m.content)), ...about }];
    const version = (v: string | undefined) => bytes(v === undefined ? [] : [v]);
    return [
      {
        prompt_role: bytes(example.prompt.map((m) => m.role)),
        prompt_content: bytes(example.prompt.map((m) => m.content)),
        chosen: bytes([example.chosen.text]),
        rejected: bytes([example.rejected.text]),
        chosen_model_version: version(example.chosen.version),
        rejected_model_version: version(example.rejected.version),
        ...about,
      },
    ];
  }
}

/** The fine-tuning shapes of a project whose routing question is a generation (undefined for any other). */
export function fineTuningOf(questions: readonly Question[], routingQuestion: string): FineTuning | undefined {
  const generation = questions.find((q) => q.name === routingQuestion);
  if (generation?.kind !== 'generation') return undefined;
  const preference = questions.find((q): q is PreferenceQuestion => q.kind === 'preference' && q.of === generation.name);
  return new FineTuning(generation, preference);
}
