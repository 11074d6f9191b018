import { arrangeFields, defaultFieldOrder, defaultPrimaryField, TaskLayout } from './task-layout';

describe('the text a task is read by, without a layout', () => {
  it.each([
    [['subject', 'body', 'links'], 'body'],
    [['email_body', 'email_subject'], 'email_body'],
    [['reviewText', 'stars'], 'reviewText'],
    [['title', 'price', 'category'], 'title'],
    [['comment', 'text'], 'text'],
    [['description', 'title'], 'description'],
    [['links', 'has_attachment', 'hour'], null],
    // a word inside another word is not the word: "context" is not "text", "bodyweight" not "body"
    [['context', 'bodyweight'], null],
  ])('%j reads %j', (fields, primary) => {
    expect(defaultPrimaryField(fields)).toBe(primary);
  });
});

describe('the default order', () => {
  it('puts headings first, then the text, then the rest by name (numbers in order)', () => {
    expect(defaultFieldOrder(['links', 'body', 'has_attachment', 'subject', 'field10', 'field9'], 'body')).toEqual([
      'subject',
      'body',
      'field9',
      'field10',
      'has_attachment',
      'links',
    ]);
  });

  it('is the same whatever order the input came in', () => {
    const fields = ['subject', 'body', 'links', 'sender', 'title'];
    const orders = [fields, [...fields].reverse(), ['links', 'title', 'body', 'sender', 'subject']].map((f) => defaultFieldOrder(f, defaultPrimaryField(f)));
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
  });
});

describe('arranging a task by the project layout', () => {
  const cases: Array<[string, string[], TaskLayout | undefined, { before: string[]; primary: string | null; after: string[] }]> = [
    ['default: the subject above the body', ['body', 'links', 'subject'], undefined, { before: ['subject'], primary: 'body', after: ['links'] }],
    ['no text-like field: every field a row', ['a', 'b'], undefined, { before: ['a', 'b'], primary: null, after: [] }],
    [
      'the listed order, the text in its place',
      ['body', 'links', 'subject', 'sender'],
      { fields: ['sender', 'body', 'subject'], primary: 'body' },
      { before: ['sender'], primary: 'body', after: ['subject', 'links'] },
    ],
    [
      'a primary the admin picked against the default',
      ['body', 'subject'],
      { fields: [], primary: 'subject' },
      { before: [], primary: 'subject', after: ['body'] },
    ],
    ['no primary: every field a row', ['body', 'subject'], { fields: ['body'], primary: null }, { before: ['body', 'subject'], primary: null, after: [] }],
    [
      'a listed field this task lacks is passed over',
      ['body', 'subject'],
      { fields: ['missing', 'subject'], primary: 'body' },
      { before: ['subject'], primary: 'body', after: [] },
    ],
    [
      'a primary this task lacks: no text block',
      ['subject', 'links'],
      { fields: ['subject'], primary: 'body' },
      { before: ['subject', 'links'], primary: null, after: [] },
    ],
  ];
  it.each(cases)('%s', (_name, fields, layout, expected) => {
    expect(arrangeFields(fields, layout)).toEqual(expected);
  });

  it('puts a field in the same place in every task, however long its value (only names decide)', () => {
    const layout = { fields: ['subject', 'body'], primary: 'body' };
    expect(arrangeFields(['subject', 'body', 'note'], layout)).toEqual(arrangeFields(['note', 'body', 'subject'], layout));
  });

  it('refuses a field listed twice', () => {
    expect(TaskLayout.safeParse({ fields: ['a', 'a'], primary: null }).success).toBe(false);
    expect(TaskLayout.safeParse({ fields: ['a', 'b'], primary: 'a' }).success).toBe(true);
  });
});
