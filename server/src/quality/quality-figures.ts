import { dawidSkene, DawidSkeneResult, fleissKappaOfLabels, interRaterConfusion, krippendorffAlphaNominal, majorityVote } from '@backflow/agreement';
import type { AgreementFigures, RaterReliability } from '@backflow/contracts';
import type { Question } from '@backflow/questions';
import { groupBy } from '../common/group-by';
import { raterQuestionReliability } from './question-agreement';
import type { RaterRecord, WindowAnswer } from './quality.repository';

export interface TaskAnswers {
  taskId: string;
  answers: Array<{ rater: string; label: string }>;
  lastAnswerAt: Date;
  finalLabel: string | null;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function byTask(answers: readonly WindowAnswer[]): TaskAnswers[] {
  const tasks = new Map<string, TaskAnswers>();
  for (const a of answers) {
    let task = tasks.get(a.taskId);
    if (!task) tasks.set(a.taskId, (task = { taskId: a.taskId, answers: [], lastAnswerAt: a.createdAt, finalLabel: a.finalLabel }));
    task.answers.push({ rater: a.raterId, label: a.label });
    if (a.createdAt > task.lastAnswerAt) task.lastAnswerAt = a.createdAt;
  }
  return [...tasks.values()];
}

/** κ over tasks with exactly `overlap` answers (or the commonest count of two or more), α over all. */
export function agreementOf(tasks: readonly TaskAnswers[], overlap: number): AgreementFigures {
  const multi = tasks.filter((t) => t.answers.length >= 2);
  const labels = multi.map((t) => t.answers.map((a) => a.label));
  let raters = overlap;
  if (overlap < 2 || !labels.some((l) => l.length === overlap)) {
    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l.length, (counts.get(l.length) ?? 0) + 1);
    raters = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 2;
  }
  const fleiss = fleissKappaOfLabels(labels, raters);
  const alpha = krippendorffAlphaNominal(labels);
  return {
    tasks: multi.length,
    answers: labels.reduce((n, l) => n + l.length, 0),
    fleissKappa: finite(fleiss.kappa),
    fleissTasks: fleiss.items,
    krippendorffAlpha: finite(alpha.alpha),
    pairableAnswers: alpha.pairableValues,
    unanimous: multi.length ? multi.filter((t) => new Set(t.answers.map((a) => a.label)).size === 1).length / multi.length : null,
  };
}

export function confusionOf(tasks: readonly TaskAnswers[], classes: readonly string[]): number[][] {
  return interRaterConfusion(
    tasks.map((t) => t.answers),
    classes,
  );
}

/** Dawid-Skene over every answer of the window; undefined when there is nothing to fit. */
export function fitDawidSkene(tasks: readonly TaskAnswers[], classes: readonly string[]): DawidSkeneResult | undefined {
  const known = new Set(classes);
  const answers = tasks.flatMap((t) => t.answers.filter((a) => known.has(a.label)).map((a) => ({ item: t.taskId, rater: a.rater, label: a.label })));
  if (answers.length === 0) return undefined;
  return dawidSkene(answers, classes, { maxIterations: 200, tolerance: 1e-6, smoothing: 0.01 });
}

/** Tasks (with two answers or more and a majority) whose Dawid-Skene class differs from the majority's. */
export function disagreementsWithMajority(tasks: readonly TaskAnswers[], fit: DawidSkeneResult): number {
  let n = 0;
  for (const t of tasks) {
    if (t.answers.length < 2) continue;
    const majority = majorityVote(t.answers.map((a) => a.label)).label;
    if (majority !== undefined && fit.labels.get(t.taskId) !== majority) n++;
  }
  return n;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function raterReliability(
  members: readonly RaterRecord[],
  answers: readonly WindowAnswer[],
  fit: DawidSkeneResult | undefined,
  questions: readonly Question[],
): RaterReliability[] {
  const byRater = groupBy(answers, (a) => a.raterId);
  return members.map((m) => {
    const own = byRater.get(m.raterId) ?? [];
    const withFinal = own.filter((a) => a.finalLabel !== null);
    const confusion = fit?.confusion.get(m.raterId);
    return {
      raterId: m.raterId,
      email: m.email,
      tasks: own.length,
      medianTimeMs: median(own.flatMap((a) => (a.timeSpentMs === null ? [] : [a.timeSpentMs]))),
      goldAnswers: m.goldAnswers,
      goldAccuracy: m.goldAnswers ? m.goldCorrect / m.goldAnswers : null,
      agreementWithFinal: withFinal.length ? withFinal.filter((a) => a.label === a.finalLabel).length / withFinal.length : null,
      estimatedAccuracy: confusion && fit ? confusion.reduce((sum, row, j) => sum + fit.priors[j] * row[j], 0) : null,
      confusion: confusion ?? null,
      questions: questions.map((question) => raterQuestionReliability(question, own)),
    };
  });
}
