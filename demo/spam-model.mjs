// The demo's model: L2-regularised logistic regression over a bag of words, fitted with Adam on ml-matrix.
// Small on purpose: trained on a few dozen emails it is unsure of many, and it gets better with every span.
import { Matrix } from 'ml-matrix';

const STEPS = 250;
const LEARNING_RATE = 0.1;
const L2 = 1e-3;
const MAX_VOCABULARY = 3_000;

/** Lowercase words of 2-24 letters; subject words and the sender's domain parts are told apart from body words. */
export function tokens(email) {
  const words = (text) => text.toLowerCase().match(/[a-z][a-z0-9'$!]{1,23}/g) ?? [];
  return [...words(email.subject).map((w) => `s:${w}`), ...email.sender.split('.').map((p) => `from:${p}`), ...words(email.body)];
}

function vocabularyOf(documents) {
  const frequency = new Map();
  for (const document of documents) for (const token of new Set(document)) frequency.set(token, (frequency.get(token) ?? 0) + 1);
  const minimum = documents.length >= 200 ? 2 : 1;
  const kept = [...frequency].filter(([, n]) => n >= minimum).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return new Map(kept.slice(0, MAX_VOCABULARY).map(([token], index) => [token, index]));
}

// log(1 + count) per word, the row scaled to unit length, and a constant 1 for the intercept
function featureRow(document, vocabulary) {
  const row = new Float64Array(vocabulary.size + 1);
  for (const token of document) {
    const index = vocabulary.get(token);
    if (index !== undefined) row[index] += 1;
  }
  let norm = 0;
  for (let i = 0; i < vocabulary.size; i++) {
    row[i] = Math.log1p(row[i]);
    norm += row[i] * row[i];
  }
  if (norm > 0) for (let i = 0; i < vocabulary.size; i++) row[i] /= Math.sqrt(norm);
  row[vocabulary.size] = 1;
  return row;
}

const sigmoid = (z) => 1 / (1 + Math.exp(-Math.max(-30, Math.min(30, z))));

/**
 * Fits a spam model on labeled emails (`{subject, sender, body, label}`, label `ham` or `spam`).
 * Returns `{version, examples, predict(email) → {ham, spam}}`.
 */
export function trainModel(examples, version = 'v1') {
  const documents = examples.map(tokens);
  const vocabulary = vocabularyOf(documents);
  const x = new Matrix(documents.map((d) => featureRow(d, vocabulary)));
  const xt = x.transpose();
  const y = Matrix.columnVector(examples.map((e) => (e.label === 'spam' ? 1 : 0)));
  const n = examples.length;
  let weights = Matrix.zeros(x.columns, 1);
  let m = Matrix.zeros(x.columns, 1);
  let v = Matrix.zeros(x.columns, 1);
  for (let step = 1; step <= STEPS; step++) {
    const error = x.mmul(weights).apply(function (row, column) {
      this.set(row, column, sigmoid(this.get(row, column)));
    });
    error.sub(y);
    const gradient = xt.mmul(error).div(n).add(Matrix.mul(weights, L2));
    m = m.mul(0.9).add(Matrix.mul(gradient, 0.1));
    v = v.mul(0.999).add(Matrix.mul(gradient, gradient).mul(0.001));
    const mHat = Matrix.div(m, 1 - 0.9 ** step);
    const vHat = Matrix.div(v, 1 - 0.999 ** step);
    weights = weights.sub(mHat.mul(LEARNING_RATE).div(vHat.sqrt().add(1e-8)));
  }
  const w = weights.to1DArray();
  return {
    version,
    examples: n,
    predict(email) {
      const row = featureRow(tokens(email), vocabulary);
      let z = 0;
      for (let i = 0; i < row.length; i++) z += row[i] * w[i];
      const spam = sigmoid(z);
      return { ham: 1 - spam, spam };
    },
  };
}

/** Accuracy of a model on labeled emails: overall and per value of one slice field. */
export function evaluate(model, emails, sliceField = 'format') {
  let right = 0;
  const slices = new Map();
  for (const email of emails) {
    const scores = model.predict(email);
    const ok = (scores.spam >= 0.5 ? 'spam' : 'ham') === email.label;
    right += ok ? 1 : 0;
    const slice = slices.get(email[sliceField]) ?? { right: 0, n: 0 };
    slice.right += ok ? 1 : 0;
    slice.n += 1;
    slices.set(email[sliceField], slice);
  }
  return { accuracy: right / emails.length, n: emails.length, slices: Object.fromEntries([...slices].map(([k, s]) => [k, s.right / s.n])) };
}
