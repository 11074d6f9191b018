// Simulated raters: real users, signed in, labeling through the REST twins of the socket events (claim, then annotate).
// Each reads for a human-like moment, then gives the true label with probability `accuracy`, else the other one; on a
// price question, the true price off by a few percent, or now and then by much more.
import { randomUUID } from 'node:crypto';
import { LABELS, inputKey } from './spam-corpus.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a person takes over an email: a second or two, more for a long one; `speed` 0 answers at once. */
export function readingTimeMs(input, random, speed = 1) {
  const length = String(input.subject ?? '').length + String(input.body ?? '').length;
  return speed * (700 + Math.min(2_500, length * 1.5) + random() * 1_200);
}

/** The rater's answer: the true label with probability `accuracy`, otherwise another label. */
export function raterAnswer(truth, accuracy, random) {
  if (truth === undefined) return LABELS[Math.floor(random() * LABELS.length)];
  if (random() < accuracy) return truth;
  const others = LABELS.filter((label) => label !== truth);
  return others[Math.floor(random() * others.length)];
}

/** A standard normal draw (Box-Muller). */
function gaussian(random) {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * An appraiser's price for a tract whose true price is `truth`: off by a relative error of standard deviation `noise`,
 * and with probability 1 − `accuracy` a slip of 10% to 30% either way; to the nearest $100 (0.1 in $1000s).
 */
export function priceAnswer(truth, { accuracy, noise, random }) {
  const relative = random() < accuracy ? noise * gaussian(random) : (random() < 0.5 ? -1 : 1) * (0.1 + 0.2 * random());
  return Math.max(0, Math.round(truth * (1 + relative) * 10) / 10);
}

export class SimulatedRater {
  /**
   * `answerOf(task)` is what the rater submits for a task besides its id and time (`{label}` or `{answers}`),
   * or undefined to skip it; by default the true label of the email (by `truthByKey`) with probability `accuracy`.
   */
  constructor({ client, project, email, truthByKey, accuracy, random, speed = 1, answerOf }) {
    Object.assign(this, { client, project, email, truthByKey, accuracy, random, speed });
    this.answerOf = answerOf ?? ((task) => ({ label: raterAnswer(truthByKey.get(inputKey(task.input)), accuracy, random) }));
    this.answers = 0;
    this.labels = 0;
    // the tasks this rater's answer sent to a reviewer: the raters disagreed and no more may answer
    this.reviews = 0;
    this.stopped = false;
  }

  /** Claims and answers one task; false when none is left for this rater. */
  async labelOne() {
    const { task } = await this.client.post(`/api/v1/projects/${this.project}/tasks/claim`);
    if (!task) return false;
    const spent = readingTimeMs(task.input, this.random, this.speed);
    if (spent > 0) await sleep(spent);
    const answer = this.answerOf(task);
    if (!answer) {
      await this.client.post(`/api/v1/projects/${this.project}/tasks/${task.id}/skip`, { reason: 'skip' });
      return true;
    }
    const reply = await this.client.post(`/api/v1/projects/${this.project}/tasks/${task.id}/annotations`, {
      id: randomUUID(),
      ...answer,
      timeSpentMs: Math.round(spent),
    });
    this.answers++;
    if (reply.taskState === 'completed') this.labels++;
    if (reply.taskState === 'review') this.reviews++;
    return true;
  }

  /** Labels until stopped, looking again every few seconds when the queue is empty. */
  async run(onError) {
    while (!this.stopped) {
      try {
        if (!(await this.labelOne())) await sleep(2_000);
      } catch (error) {
        onError(this, error);
        await sleep(5_000);
      }
    }
  }

  stop() {
    this.stopped = true;
  }
}
