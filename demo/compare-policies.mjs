// The routing policies `npm run demo -- --compare` sets against each other on the spam corpus: random
// exploration, uncertainty alone, a committee's disagreement, uncertainty spread over embeddings, and
// uncertainty with labeling functions whose weak labels join the training set.
import { createHash } from 'node:crypto';
import { tokens, trainModel } from './spam-model.mjs';

export const POLICIES = ['random', 'uncertainty', 'committee', 'diversity', 'weak'];

/** A handful of labeling functions written for the SpamAssassin corpus: offers and money vote spam, mailing-list talk votes ham. */
export const SPAM_FUNCTIONS = [
  {
    name: 'offer-subject',
    label: 'spam',
    when: {
      kind: 'keywords',
      on: { feature: 'subject' },
      keywords: ['free', 'win', 'winner', 'cash', 'money', 'offer', 'mortgage', 'viagra', 'credit', 'urgent'],
    },
  },
  { name: 'dollars', label: 'spam', when: { kind: 'regex', on: { feature: 'body' }, pattern: '\\$\\d[\\d,]*(\\.\\d\\d)?' } },
  { name: 'remove-me', label: 'spam', when: { kind: 'keywords', on: { feature: 'body' }, keywords: ['remove me', 'to be removed', 'opt-out', 'click here'] } },
  { name: 'shouting', label: 'spam', when: { kind: 'regex', on: { feature: 'subject' }, pattern: '!!|^[^a-z]*[A-Z]{6}' } },
  {
    name: 'list-talk',
    label: 'ham',
    when: { kind: 'keywords', on: { feature: 'body' }, keywords: ['wrote:', 'patch', 'cvs', 'mailing list', 'kernel', 'python', 'perl'] },
  },
  { name: 'reply', label: 'ham', when: { kind: 'regex', on: { feature: 'subject' }, pattern: '^(re|fwd?):', flags: 'i' } },
];

const DIMENSIONS = 64;

/** A 64-number embedding of an email: its tokens hashed into buckets, log counts, unit length. */
export function embeddingOf(email) {
  const vector = new Array(DIMENSIONS).fill(0);
  for (const token of tokens(email)) vector[createHash('sha1').update(token).digest().readUInt8(0) % DIMENSIONS] += 1;
  const logged = vector.map((x) => Math.log1p(x));
  const norm = Math.hypot(...logged) || 1;
  // rounded to float32's precision, as a model would send them
  return logged.map((x) => Math.fround(x / norm));
}

/** Two more models on bootstrap resamples of the training set: the committee beside the deployed model. */
export function committeeOf(training, version, random) {
  const resample = () => Array.from({ length: training.length }, () => training[Math.floor(random() * training.length)]);
  return [trainModel(resample(), `${version}-b1`), trainModel(resample(), `${version}-b2`)];
}

/** The project settings of a policy, with `budget` labels a round of `batch` predictions. */
export function policySettings(policy, budget, batch) {
  const rate = Math.min(1, (1.5 * budget) / batch);
  const uncertain = { strategy: 'entropy', targetRate: rate, explorationRate: 0, dedupeWindowMinutes: 0 };
  switch (policy) {
    case 'random':
      return { routing: { strategy: 'entropy', threshold: 1, explorationRate: Math.min(1, budget / batch), dedupeWindowMinutes: 0 } };
    case 'uncertainty':
      return { routing: uncertain };
    case 'committee':
      return { routing: { ...uncertain, strategy: 'kl_divergence' } };
    case 'diversity':
      // three times the budget are candidates; the budget's room goes to them spread over the embeddings
      return { routing: { ...uncertain, targetRate: Math.min(1, (3 * budget) / batch), budget: { perBatch: budget }, diversity: { spread: true } } };
    case 'weak':
      return {
        routing: uncertain,
        weakSupervision: { functions: SPAM_FUNCTIONS, routeConflicts: false, weakLabels: { minProbability: 0.95 } },
        sources: ['feedback', 'consensus', 'review', 'gold', 'weak'],
      };
    default:
      throw new Error(`unknown policy ${policy}`);
  }
}

/** The fewest labels after which a curve reaches `target` accuracy (interpolated between rounds), or null when it never does. */
export function labelsToReach(points, target) {
  for (let i = 0; i < points.length; i++) {
    if (points[i].accuracy < target) continue;
    if (i === 0) return points[0].labels;
    const [a, b] = [points[i - 1], points[i]];
    return a.labels + ((target - a.accuracy) / (b.accuracy - a.accuracy)) * (b.labels - a.labels);
  }
  return null;
}
