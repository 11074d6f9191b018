import { Worker } from 'node:worker_threads';
import { DomainError } from '../common/errors';

/**
 * zxcvbn's check is tens of milliseconds of CPU (more on a busy machine): on the event loop, a
 * burst of new accounts held every other request and let the pool's connection waits time out.
 * It runs in one worker thread instead, started on first use; checks queue there in order.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const load = require('node:module').createRequire(workerData.from);
const { ZxcvbnFactory } = load('@zxcvbn-ts/core');
const common = load('@zxcvbn-ts/language-common');
const english = load('@zxcvbn-ts/language-en');
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
  translations: english.translations,
  // bounds a check to tens of milliseconds: at the defaults a 41-character password with many
  // digits took over a second; a longer one is judged by its first 64
  l33tMaxSubstitutions: 16,
  maxLength: 64,
});
parentPort.on('message', ({ id, password, words }) => {
  try {
    const { score, feedback } = zxcvbn.check(password, words);
    parentPort.postMessage({ id, score, warning: feedback.warning, suggestions: feedback.suggestions });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Verdict {
  id: number;
  score: number;
  warning: string | null;
  suggestions: string[];
  error?: string;
}

class StrengthWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (verdict: Verdict) => void; reject: (error: Error) => void }>();

  check(password: string, words: string[]): Promise<Verdict> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Verdict>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ id, password, words });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { from: __filename } });
    worker.on('message', (verdict: Verdict) => this.settle(verdict));
    // a worker that dies fails what it held; the next check starts a new one
    worker.on('error', (error: Error) => this.failAll(worker, error));
    worker.on('exit', (code) => this.failAll(worker, new Error(`the password-strength worker exited (${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(verdict: Verdict): void {
    const pending = this.waiting.get(verdict.id);
    if (!pending) return;
    this.waiting.delete(verdict.id);
    // an idle worker must not keep the process alive
    if (this.waiting.size === 0) this.worker?.unref();
    if (verdict.error) pending.reject(new Error(`password strength: ${verdict.error}`));
    else pending.resolve(verdict);
  }

  private failAll(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const pending of this.waiting.values()) pending.reject(error);
    this.waiting.clear();
  }
}

const strength = new StrengthWorker();

export const weakPassword = (reason: string, score: number, minScore: number) =>
  new DomainError('users/weak_password', `password: too easy to guess (strength ${score} of 4, at least ${minScore} needed): ${reason}`, 400, 'password', {
    score,
    minScore,
  });

/**
 * Refuses a password zxcvbn rates below `minScore` (0-4), with its reason; the person's email and
 * the product's name count as words an attacker would try first.
 */
export async function assertStrongPassword(password: string, minScore: number, userInputs: string[] = []): Promise<void> {
  const words = [...userInputs.flatMap((input) => [input, ...input.split(/[@.+_-]/)]), 'backflow'].filter((word) => word.length > 2);
  const result = await strength.check(password, words);
  if (result.score >= minScore) return;
  const reason = [result.warning, ...result.suggestions].filter(Boolean).join(' ') || 'it follows a pattern attackers try early.';
  throw weakPassword(reason, result.score, minScore);
}
