import { selfConsistency, tokenUncertainty } from '@backflow/sampling';
import { GenerationQuestion } from '../definitions';
import { fail, ok, type Checked, type QuestionKind } from '../kind';
import { clamp01, isFiniteNumber, isObject } from '../shared';
import { textAnswer, textConsensus } from './text';

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** A turn of the conversation a generation answered. */
export interface Message {
  role: MessageRole;
  content: string;
}

/** One token of a response: its log-probability (natural log) and, optionally, those of the top alternatives at that step. */
export interface GeneratedToken {
  logprob: number;
  top?: number[];
}

/** One response: its text, the model version that wrote it (champion and challenger side by side), and how sure it was. */
export interface GeneratedResponse {
  text: string;
  model?: { version: string };
  meanLogprob?: number;
  tokens?: GeneratedToken[];
  latencyMs?: number;
  usage?: { promptTokens?: number; completionTokens?: number };
}

/** A generative model's output: the conversation before, and its responses (samples of one prompt, or versions). */
export interface GenerationSuggestion {
  messages?: Message[];
  responses: GeneratedResponse[];
}

/** The most tokens with log-probabilities a response may carry, and alternatives per token. */
export const TOKEN_LIMITS = { tokens: 8_192, top: 20 } as const;
const RESPONSE_KEYS = ['text', 'model', 'meanLogprob', 'tokens', 'latencyMs', 'usage'];

const isLogprob = (x: unknown): x is number => isFiniteNumber(x) && x <= 0;
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function checkMessages(question: GenerationQuestion, raw: unknown): Checked<Message[]> {
  if (!Array.isArray(raw)) return fail('a list of {"role", "content"}', 'messages');
  if (raw.length > question.maxMessages) return fail(`at most ${question.maxMessages} messages`, 'messages');
  for (const [i, m] of raw.entries()) {
    if (!isObject(m)) return fail('an object {"role", "content"}', 'messages', i);
    for (const key of Object.keys(m)) if (key !== 'role' && key !== 'content') return fail(`unknown key "${key}"`, 'messages', i, key);
    if (!MESSAGE_ROLES.includes(m.role as MessageRole)) return fail(`one of ${MESSAGE_ROLES.join(', ')}`, 'messages', i, 'role');
    if (typeof m.content !== 'string') return fail('a string', 'messages', i, 'content');
    if (m.content.length > question.maxLength) return fail(`at most ${question.maxLength} characters`, 'messages', i, 'content');
  }
  return ok(raw as Message[]);
}

function checkResponse(question: GenerationQuestion, raw: unknown, i: number): Checked<GeneratedResponse> {
  const at = (...path: Array<string | number>) => ['responses', i, ...path];
  if (!isObject(raw)) return fail('an object {"text", …}', ...at());
  for (const key of Object.keys(raw)) if (!RESPONSE_KEYS.includes(key)) return fail(`unknown key "${key}"`, ...at(key));
  if (typeof raw.text !== 'string') return fail('a string', ...at('text'));
  if (raw.text.length > question.maxLength) return fail(`at most ${question.maxLength} characters`, ...at('text'));
  if (raw.model !== undefined) {
    if (!isObject(raw.model) || typeof raw.model.version !== 'string' || raw.model.version.length === 0 || raw.model.version.length > 128)
      return fail('{"version": a string of 1 to 128 characters}', ...at('model'));
    for (const key of Object.keys(raw.model)) if (key !== 'version') return fail(`unknown key "${key}"`, ...at('model', key));
  }
  if (raw.meanLogprob !== undefined && !isLogprob(raw.meanLogprob)) return fail('a log-probability: a finite number, at most 0', ...at('meanLogprob'));
  if (raw.tokens !== undefined) {
    if (!Array.isArray(raw.tokens) || raw.tokens.length > TOKEN_LIMITS.tokens) return fail(`a list of at most ${TOKEN_LIMITS.tokens} tokens`, ...at('tokens'));
    for (const [t, token] of raw.tokens.entries()) {
      if (!isObject(token) || !isLogprob(token.logprob)) return fail('{"logprob": a log-probability, "top"?: [log-probabilities]}', ...at('tokens', t));
      for (const key of Object.keys(token)) if (key !== 'logprob' && key !== 'top') return fail(`unknown key "${key}"`, ...at('tokens', t, key));
      if (token.top !== undefined && (!Array.isArray(token.top) || token.top.length > TOKEN_LIMITS.top || !token.top.every(isLogprob)))
        return fail(`at most ${TOKEN_LIMITS.top} log-probabilities`, ...at('tokens', t, 'top'));
    }
  }
  if (raw.latencyMs !== undefined && !(isFiniteNumber(raw.latencyMs) && raw.latencyMs >= 0))
    return fail('milliseconds: a number, at least 0', ...at('latencyMs'));
  if (raw.usage !== undefined) {
    if (!isObject(raw.usage)) return fail('{"promptTokens"?, "completionTokens"?}', ...at('usage'));
    for (const [key, value] of Object.entries(raw.usage)) {
      if (key !== 'promptTokens' && key !== 'completionTokens') return fail(`unknown key "${key}"`, ...at('usage', key));
      if (!isCount(value)) return fail('a whole number, at least 0', ...at('usage', key));
    }
  }
  return ok(raw as unknown as GeneratedResponse);
}

/** A response's mean log-probability: the one sent, else the mean of its tokens'. */
export function meanLogprobOf(response: GeneratedResponse): number | undefined {
  return response.meanLogprob ?? (response.tokens?.length ? tokenUncertainty(response.tokens)!.meanLogprob : undefined);
}

/** How unsure the model was of its first response: 1 − its geometric mean token probability (undefined with no log-probability). */
function leastConfidence(s: GenerationSuggestion): number | undefined {
  const mean = meanLogprobOf(s.responses[0]);
  return mean === undefined ? undefined : clamp01(1 - Math.exp(mean));
}

/** The mean entropy of the first response's tokens over their top alternatives, over ln of their count (undefined without alternatives). */
function tokenEntropy(s: GenerationSuggestion): number | undefined {
  const tokens = s.responses[0].tokens ?? [];
  const withTop = tokens.filter((t) => t.top && t.top.length > 1);
  if (withTop.length === 0) return undefined;
  const widest = Math.max(...withTop.map((t) => t.top!.length));
  return clamp01(tokenUncertainty(withTop)!.meanEntropy! / Math.log(widest));
}

/** How much the samples of one prompt disagree: 1 − the least similar pair's word overlap (undefined with one response). */
function disagreement(s: GenerationSuggestion): number | undefined {
  const consistency = selfConsistency(s.responses.map((r) => r.text));
  return consistency === undefined ? undefined : 1 - consistency.min;
}

export const generationKind: QuestionKind<GenerationQuestion, GenerationSuggestion, string> = {
  kind: 'generation',
  settings: GenerationQuestion,
  /**
   * `{messages?: [{role, content}], responses: [{text, model?: {version}, meanLogprob?, tokens?: [{logprob, top?}], latencyMs?, usage?}]}`:
   * 1 to `maxResponses` responses, texts and messages of at most `maxLength` characters.
   */
  suggestion(question, raw) {
    if (!isObject(raw)) return fail('expected an object: {"messages"?: [{"role", "content"}], "responses": [{"text", …}]}');
    for (const key of Object.keys(raw)) if (key !== 'messages' && key !== 'responses') return fail(`unknown key "${key}"`, key);
    const out: GenerationSuggestion = { responses: [] };
    if (raw.messages !== undefined) {
      const messages = checkMessages(question, raw.messages);
      if (!messages.ok) return messages;
      out.messages = messages.value;
    }
    if (!Array.isArray(raw.responses) || raw.responses.length === 0) return fail('a non-empty list of responses', 'responses');
    if (raw.responses.length > question.maxResponses) return fail(`at most ${question.maxResponses} responses`, 'responses');
    for (const [i, response] of raw.responses.entries()) {
      const checked = checkResponse(question, response, i);
      if (!checked.ok) return checked;
      out.responses.push(checked.value);
    }
    return ok(out);
  },
  /**
   * least_confidence: 1 − the first response's geometric mean token probability; entropy (and
   * max_entropy): its tokens' mean entropy over their alternatives; margin: the samples'
   * disagreement (1 − the least similar pair's word overlap). Each falls back to the next signal
   * the model sent (log-probabilities, alternatives, samples); with none, the model is taken at
   * its word (0).
   */
  uncertainty(_question, s, strategy) {
    const order =
      strategy === 'margin'
        ? [disagreement, leastConfidence, tokenEntropy]
        : strategy === 'least_confidence'
          ? [leastConfidence, tokenEntropy, disagreement]
          : [tokenEntropy, leastConfidence, disagreement];
    for (const signal of order) {
      const value = signal(s);
      if (value !== undefined) return value;
    }
    return 0;
  },
  /** The first response's geometric mean token probability, else the samples' agreement, else certain. */
  confidence(_question, s) {
    const mean = meanLogprobOf(s.responses[0]);
    if (mean !== undefined) return clamp01(Math.exp(mean));
    const d = disagreement(s);
    return d === undefined ? 1 : 1 - d;
  },
  predicted(_question, s) {
    return s.responses[0].text;
  },
  answer: (question, raw) =>
    textAnswer(question, raw, { notString: 'a string: the corrected response', empty: 'an answer is required: the response is empty' }),
  /** As a text question: raters agree when their corrections match, ends trimmed; otherwise a reviewer decides. */
  consensus: (_question, answers, threshold) => textConsensus(answers, threshold),
  agreement: () => ({ kind: 'alpha', distance: 'nominal' }),
  columns(question) {
    return [{ name: question.name, type: 'bytes', list: false, values: (a) => [a] }];
  },
};
