import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { DomainError } from '../common/errors';

let estimator: ZxcvbnFactory | undefined;

// built on first use: the dictionaries take a moment to load
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
    // bounds the check (it runs on the event loop) to tens of milliseconds: at the defaults a
    // 41-character password with many digits took over a second; a longer one is judged by its first 64
    l33tMaxSubstitutions: 16,
    maxLength: 64,
  });
  return estimator;
}

export const weakPassword = (reason: string, score: number, minScore: number) =>
  new DomainError('users/weak_password', `password: too easy to guess (strength ${score} of 4, at least ${minScore} needed): ${reason}`, 400, 'password', {
    score,
    minScore,
  });

/**
 * Refuses a password zxcvbn rates below `minScore` (0-4), with its reason; the person's email and
 * the product's name count as words an attacker would try first.
 */
export function assertStrongPassword(password: string, minScore: number, userInputs: string[] = []): void {
  const words = [...userInputs.flatMap((input) => [input, ...input.split(/[@.+_-]/)]), 'backflow'].filter((word) => word.length > 2);
  const result = zxcvbn().check(password, words);
  if (result.score >= minScore) return;
  const reason = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(' ') || 'it follows a pattern attackers try early.';
  throw weakPassword(reason, result.score, minScore);
}
