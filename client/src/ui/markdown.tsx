import Markdown, { type Components } from 'react-markdown';
import './markdown.css';

/*
 * A model's text as Markdown, safely: react-markdown builds React elements from the Markdown
 * alone, so HTML in the text (a <script>, an <img onerror>) is shown as text and never parsed;
 * its URL filter drops javascript: and other unsafe links. Images are never fetched (a remote
 * image would tell its server who reads the task): each shows as its description and address.
 */
const components: Components = {
  img: ({ alt, src }) => (
    <span className="markdown__image" data-testid="markdown-image">
      [image{alt ? `: ${alt}` : ''}
      {typeof src === 'string' && src ? ` (${src})` : ''}]
    </span>
  ),
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
};

/** Markdown text (headings, lists, emphasis, code blocks, tables as text) rendered without running or fetching anything. */
export function SafeMarkdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <Markdown components={components}>{text}</Markdown>
    </div>
  );
}
