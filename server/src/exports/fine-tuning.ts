import type { GenerationSuggestion, Message, PreferenceAnswer, Question } from '@backflow/questions';
import { jsonText, type ExportRow } from './example-row';

type GenerationQuestion = Extract<Question, { kind: 'generation' }>;
type PreferenceQuestion = Extract<Question, { kind: 'preference' }>;

/**
 * A generative project's labels in the shapes fine-tuning reads, one JSON object per line:
 * - `sft_jsonl`: `{"messages": [...the conversation, {"role": "assistant", "content": <the corrected response>}]}`,
 *   the chat shape of supervised fine-tuning (TRL's SFTTrainer, OpenAI's fine-tuning files);
 * - `dpo_jsonl`: `{"prompt": [...the conversation], "chosen": [{"role": "assistant", "content": …}], "rejected": […]}`,
 *   TRL's conversational preference shape (DPOTrainer), one line per preference that names a
 *   better response (a tie or both bad says nothing to learn from, and is left out).
 */
export class FineTuning {
  constructor(
    readonly generation: GenerationQuestion,
    readonly preference: PreferenceQuestion | undefined,
  ) {}

  /** The lines of a row in a format: none when the row has nothing of that shape. */
  lines(format: 'sft_jsonl' | 'dpo_jsonl', row: ExportRow): string[] {
    const output = row.output as Partial<GenerationSuggestion> | undefined;
    const conversation: Message[] = (output?.messages ?? []).map((m) => ({ role: m.role, content: m.content }));
    if (format === 'sft_jsonl') {
      const corrected = row.answers[this.generation.name];
      if (typeof corrected !== 'string') return [];
      return [`${jsonText({ messages: [...conversation, { role: 'assistant', content: corrected }] })}\n`];
    }
    if (!this.preference) return [];
    const answer = row.answers[this.preference.name] as PreferenceAnswer | undefined;
    const responses = output?.responses ?? [];
    if (!answer || (answer.preferred !== 'first' && answer.preferred !== 'second') || responses.length < 2) return [];
    const [chosen, rejected] = answer.preferred === 'first' ? [responses[0], responses[1]] : [responses[1], responses[0]];
    return [
      `${jsonText({
        prompt: conversation,
        chosen: [{ role: 'assistant', content: chosen.text }],
        rejected: [{ role: 'assistant', content: rejected.text }],
      })}\n`,
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
