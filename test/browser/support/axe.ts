import * as fs from 'node:fs';
import type { ImpactValue, Result, RunOptions } from 'axe-core';
import type { Page } from 'playwright-core';

// read once: the engine is evaluated into each page as a string (the page's CSP forbids inline scripts, not DevTools evaluation)
let engine: string | undefined;
const engineSource = () => (engine ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));

export interface AxeCheckOptions {
  /** CSS selectors of the parts to check (default: the whole document) */
  include?: string[];
  /** CSS selectors of parts left out (a third-party widget, a chart's canvas) */
  exclude?: string[];
  /** axe rule ids switched off, each with the reason in the caller's comment */
  disableRules?: string[];
  /** the impacts that fail the check (default: serious and critical) */
  impacts?: ImpactValue[];
}

/** What axe found on the page, at the impacts asked for (by default serious and critical), WCAG 2.2 A and AA rules and axe's best practices. */
export async function axeViolations(page: Page, options: AxeCheckOptions = {}): Promise<Result[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(engineSource());
  const impacts = options.impacts ?? ['serious', 'critical'];
  const runOptions: RunOptions = {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    rules: Object.fromEntries((options.disableRules ?? []).map((id) => [id, { enabled: false }])),
    resultTypes: ['violations'],
  };
  const context = { include: options.include?.length ? options.include : ['html'], exclude: options.exclude ?? [] };
  const results = await page.evaluate(
    ([context, runOptions]) => (window as unknown as { axe: typeof import('axe-core') }).axe.run(context as never, runOptions),
    [context, runOptions] as const,
  );
  return results.violations.filter((violation) => violation.impact && impacts.includes(violation.impact));
}

/** One line per failing element: the rule, its impact, the element and axe's summary of what to fix. */
export function describeViolations(violations: Result[]): string {
  return violations
    .flatMap((v) => v.nodes.map((node) => `${v.id} (${v.impact}): ${node.target.join(' ')}\n    ${node.failureSummary?.replaceAll('\n', '\n    ') ?? v.help}`))
    .join('\n');
}

/**
 * Fails, naming every element and rule, when axe-core finds a serious or critical violation on
 * the page as it is now (`screen` names it in the message). Call it once the screen has rendered
 * what it shows (and again in each state worth checking: a dialog open, an error shown).
 */
export async function expectAccessible(page: Page, screen: string, options: AxeCheckOptions = {}): Promise<void> {
  const violations = await axeViolations(page, options);
  if (violations.length > 0) throw new Error(`${screen}: axe-core found ${violations.length} accessibility violation(s):\n${describeViolations(violations)}`);
}
