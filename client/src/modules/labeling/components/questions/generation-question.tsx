import { useId } from 'react';
import { isRecord, type AnswerViewProps, type QuestionOf, type QuestionWidget, type WidgetProps } from './question-widget';
import { TextBox, textDraft } from './text-question';
import { SafeMarkdown } from '../../../../ui/markdown';

type GenerationQuestion = QuestionOf<'generation'>;
interface Message {
  role: string;
  content: string;
}
interface Response {
  text: string;
}

/** The conversation and the responses of a generation, as the server checked them (nothing when the shape is not theirs). */
function generationOf(suggestion: unknown): { messages: Message[]; responses: Response[] } {
  if (!isRecord(suggestion)) return { messages: [], responses: [] };
  const messages = Array.isArray(suggestion.messages) ? (suggestion.messages as Message[]) : [];
  const responses = Array.isArray(suggestion.responses) ? (suggestion.responses as Response[]) : [];
  return { messages, responses };
}

const ROLE_NAMES: Record<string, string> = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool' };

/** A conversation as chat: each turn under its role, its text as Markdown (no HTML in it runs, no image is fetched). */
function Conversation({ messages, responses }: { messages: Message[]; responses: Response[] }) {
  return (
    <section className="chat" aria-label="Conversation" data-testid="chat">
      {messages.map((message, index) => (
        <article key={`m${index}`} className={`chat__turn chat__turn--${message.role}`} data-role={message.role}>
          <h4 className="chat__role">{ROLE_NAMES[message.role] ?? message.role}</h4>
          <div className="chat__text">
            <SafeMarkdown text={message.content} />
          </div>
        </article>
      ))}
      {responses.map((response, index) => (
        <article key={`r${index}`} className="chat__turn chat__turn--response" data-role="response" data-testid="chat-response">
          {/* (which model version wrote a response is not shown: raters judge blind, as they label blind) */}
          <h4 className="chat__role">{responses.length > 1 ? `Response ${index + 1}` : 'Response'}</h4>
          <div className="chat__text">
            <SafeMarkdown text={response.text} />
          </div>
        </article>
      ))}
    </section>
  );
}

function GenerationQuestionView({ question, draft, onChange, suggestion }: WidgetProps<GenerationQuestion, string>) {
  const id = useId();
  const { messages, responses } = generationOf(suggestion);
  return (
    <div className="generation-answer">
      <Conversation messages={messages} responses={responses} />
      <p className="question__hint" id={`${id}-label`}>
        Correct the response{responses.length > 1 ? ' (the first one)' : ''}: leave it as it is if nothing is wrong.
      </p>
      <TextBox question={question} draft={draft} onChange={onChange} model={responses[0]?.text} rows={[4, 14]} labelledBy={`${id}-label`} />
    </div>
  );
}

function GenerationAnswer({ answer }: AnswerViewProps<GenerationQuestion>) {
  return <span className="answer-text">{String(answer)}</span>;
}

export const generationWidget: QuestionWidget<GenerationQuestion, string> = {
  typed: true,
  keys: () => 'Correct the response; Ctrl+Enter submits (Enter is a new line)',
  initial: (_question, suggestion) => generationOf(suggestion).responses[0]?.text ?? '',
  ...textDraft,
  View: GenerationQuestionView,
  AnswerView: GenerationAnswer,
};
