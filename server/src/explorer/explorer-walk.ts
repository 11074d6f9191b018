import type { ExplorerFilters } from '@backflow/contracts';
import { DomainError } from '../common/errors';

/**
 * How a page is found: a walk along one index in a fixed order, reading at most `budget` rows, the
 * filters applied to what it read. The walk follows the table a filter narrows most, so that a
 * rare label or routing reason is found among the project's labels or tasks (about 1% of its
 * predictions), never by reading every prediction.
 */
export type WalkOrder = 'arrival' | 'label' | 'task' | 'confidence';

export interface Walk {
  order: WalkOrder;
  /** ascending (oldest first, least confident first) */
  ascending: boolean;
  /** rows the walk reads for one page at most */
  budget: number;
}

// a walk along predictions reads its rows alone; a walk along labels or tasks looks each prediction up (a task's in every day partition)
const ARRIVAL_BUDGET = 20_000;
const LOOKUP_BUDGET = 2_000;

export const ExplorerErrors = {
  invalidCursor: () => new DomainError('explorer/invalid_cursor', 'cursor: not a cursor of this search (start again without it)', 400, 'cursor'),
  windowTooWide: (maxDays: number) =>
    new DomainError('explorer/window_too_wide', `to: a confidence sort covers at most ${maxDays} days (from–to); narrow the window`, 400, 'to'),
  sortUnavailable: (order: WalkOrder) =>
    new DomainError(
      'explorer/sort_unavailable',
      `sort: a search by ${order === 'label' ? 'label or label source' : 'routing reason or task'} is in ${order} time, newest or oldest first`,
      400,
      'sort',
    ),
  predictionNotFound: (id: string) => new DomainError('explorer/prediction_not_found', `id: this project has no prediction ${id}`, 404, 'id'),
  viewNotFound: (id: string) => new DomainError('explorer/view_not_found', `id: this project has no saved view ${id}`, 404, 'id'),
  unknownLabel: (label: string) => new DomainError('explorer/unknown_label', `label: "${label}" is not one of the routing question’s labels`, 400, 'label'),
  relabelKind: (kind: string) =>
    new DomainError(
      'explorer/relabel_unavailable',
      `label: relabeling here takes a label question's label; this project's routing question is ${kind}`,
      400,
      'label',
    ),
};

/** The walk a search takes. */
export function walkOf(filters: ExplorerFilters): Walk {
  const confidence = filters.sort === 'least_confident' || filters.sort === 'most_confident';
  const byLabel = filters.label !== undefined || (filters.source !== undefined && filters.source !== 'none');
  const byTask = filters.reason !== undefined || filters.task === 'open' || filters.task === 'completed' || filters.task === 'any';
  const order: WalkOrder = byLabel ? 'label' : byTask ? 'task' : confidence ? 'confidence' : 'arrival';
  if (confidence && order !== 'confidence') throw ExplorerErrors.sortUnavailable(order);
  return {
    order,
    ascending: filters.sort === 'oldest' || filters.sort === 'least_confident',
    budget: order === 'arrival' || order === 'confidence' ? ARRIVAL_BUDGET : LOOKUP_BUDGET,
  };
}

/** Where the walk stopped: the last row's sort key (an instant as PostgreSQL's text, or a confidence) and id (a label's id for a label walk). */
export type CursorKey = [string | number, string];

/** A cursor names its walk, so that one of another search is refused rather than misread. */
export function encodeCursor(walk: Walk, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ o: walk.order, a: walk.ascending ? 1 : 0, k: key })).toString('base64url');
}

export function decodeCursor(walk: Walk, cursor: string | undefined): CursorKey | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw ExplorerErrors.invalidCursor();
  }
  const { o, a, k } = (parsed ?? {}) as { o?: unknown; a?: unknown; k?: unknown };
  const keyOk =
    Array.isArray(k) && k.length === 2 && (typeof k[0] === 'string' || (typeof k[0] === 'number' && Number.isFinite(k[0]))) && typeof k[1] === 'string';
  if (o !== walk.order || a !== (walk.ascending ? 1 : 0) || !keyOk) throw ExplorerErrors.invalidCursor();
  const [sortKey, id] = k as CursorKey;
  // the key goes into SQL as a parameter, but a malformed one would make PostgreSQL fail the cast: refused here
  if ((walk.order === 'arrival' || walk.order === 'task') && (typeof sortKey !== 'string' || !PG_INSTANT.test(sortKey))) throw ExplorerErrors.invalidCursor();
  if (walk.order === 'confidence' && typeof sortKey !== 'number') throw ExplorerErrors.invalidCursor();
  if (walk.order === 'label' && !/^\d{1,18}$/.test(id)) throw ExplorerErrors.invalidCursor();
  if (walk.order !== 'label' && !UUID.test(id)) throw ExplorerErrors.invalidCursor();
  return [sortKey, id];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// an instant as PostgreSQL prints it (to the microsecond, with its offset): a cursor keeps it as text, never rounded to milliseconds
const PG_INSTANT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

const PREVIEW_CHARS = 200;

/**
 * One line that stands for an input in a list: its longest text field's value (the subject or body
 * a rater reads), else its fields as JSON, cut at 200 characters.
 */
export function previewOf(input: Record<string, unknown>): string {
  let text: string | undefined;
  for (const value of Object.values(input)) if (typeof value === 'string' && value.length > (text?.length ?? 0)) text = value;
  const line = (text ?? JSON.stringify(input)).replace(/\s+/g, ' ').trim();
  return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 1)}…` : line;
}

/** `key:value` filters as the JSON object a slice must contain. */
export function sliceContaining(filters: readonly string[] | undefined): Record<string, string> | undefined {
  if (!filters?.length) return undefined;
  const slice: Record<string, string> = {};
  for (const filter of filters) {
    // key:value, or key=value as the routing and quality pages write a slice (a key holds neither)
    const at = filter.search(/[:=]/);
    slice[filter.slice(0, at)] = filter.slice(at + 1);
  }
  return slice;
}

/** A LIKE pattern that matches `text` literally anywhere. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
