// Simulated raters: real users, signed in, labeling through the REST twins of the socket events (claim, then annotate).
// Each reads for a human-like moment, then gives the true label with probability `accuracy`, else the other one.
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

export class SimulatedRater {
  constructor({ client, project, email, truthByKey, accuracy, random, speed = 1 }) {
    Object.assign(this, { client, project, email, truthByKey, accuracy, random, speed });
    this.answers = 0;
    this.labels = 0;
    this.stopped = false;
  }

  /** Claims and answers one task; false when none is left for this rater. */
  async labelOne() {
    const { task } = await this.client.post(`/api/v1/projects/${this.project}/tasks/claim`);
    if (!task) return false;
    const spent = readingTimeMs(task.input, this.random, this.speed);
    if (spent > 0) await sleep(spent);
    const label = raterAnswer(this.truthByKey.get(inputKey(task.input)), this.accuracy, this.random);
    const reply = await this.client.post(`/api/v1/projects/${this.project}/tasks/${task.id}/annotations`, {
      id: randomUUID(),
      label,
      timeSpentMs: Math.round(spent),
    });
    this.answers++;
    if (reply.taskState === 'completed') this.labels++;
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
