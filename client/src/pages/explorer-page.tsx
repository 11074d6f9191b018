import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { EXPLORER_LABEL_SOURCES, EXPLORER_SORTS, EXPLORER_TASK_STATES, TASK_REASONS, type ExplorerItem, type SavedView } from '@backflow/contracts';
import { errorMessage } from '../lib/api';
import { examplePath, navigate } from '../lib/router';
import { deleteView, explorerScope, saveView, searchQuery, viewsQuery, type SearchParams } from '../modules/explorer/api/explorer-api';
import { projectQuery } from '../modules/projects/api/projects-api';
import { Alert } from '../ui/alert';
import { Button } from '../ui/button';
import { PageShell } from '../ui/page-shell';
import './admin-pages.css';
import './explorer-page.css';

export interface ExplorerPageProps {
  slug: string;
}

/** The form's fields, each a text the URL holds (empty: not filtered). */
interface Filters {
  q: string;
  slice: string;
  modelVersion: string;
  predictedLabel: string;
  label: string;
  source: string;
  reason: string;
  task: string;
  minConfidence: string;
  maxConfidence: string;
  from: string;
  to: string;
  sort: string;
}

const EMPTY: Filters = {
  q: '',
  slice: '',
  modelVersion: '',
  predictedLabel: '',
  label: '',
  source: '',
  reason: '',
  task: '',
  minConfidence: '',
  maxConfidence: '',
  from: '',
  to: '',
  sort: 'newest',
};

const SORT_NAMES: Record<(typeof EXPLORER_SORTS)[number], string> = {
  newest: 'Newest arrivals first',
  oldest: 'Oldest arrivals first',
  least_confident: 'Least confident first',
  most_confident: 'Most confident first',
};

const ORDER_NAMES = { arrival: 'arrival', label: 'label time', task: 'task time', confidence: 'confidence' } as const;

/** Filters from a URL's query string (slices as `country:FR`, several separated by commas in the form). */
function filtersOf(search: string): Filters {
  const params = new URLSearchParams(search);
  const filters = { ...EMPTY };
  for (const name of Object.keys(EMPTY) as Array<keyof Filters>) {
    const values = params.getAll(name);
    if (values.length) filters[name] = name === 'slice' ? values.join(', ') : values[0];
  }
  return filters;
}

/** The query a search sends: the filled fields, instants as ISO, each slice filter on its own. */
function paramsOf(filters: Filters): SearchParams {
  const params: SearchParams = [];
  for (const [name, value] of Object.entries(filters) as Array<[keyof Filters, string]>) {
    const text = value.trim();
    if (!text || (name === 'sort' && text === 'newest')) continue;
    if (name === 'slice') params.push(...text.split(',').flatMap((part): Array<[string, string]> => (part.trim() ? [['slice', part.trim()]] : [])));
    else if (name === 'from' || name === 'to') params.push([name, new Date(text).toISOString()]);
    else params.push([name, text]);
  }
  return params;
}

/** A saved view's filters as the form's fields. */
function filtersOfView(view: SavedView): Filters {
  const filters = { ...EMPTY };
  for (const [name, value] of Object.entries(view.filters)) {
    if (!(name in filters)) continue;
    const key = name as keyof Filters;
    if (key === 'from' || key === 'to') filters[key] = localInput(String(value));
    else filters[key] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return filters;
}

/** An instant as a datetime-local field shows it (local time, minutes). */
function localInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

const formatTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Admins and reviewers: search the project's predictions, open one, save a search under a name. */
export function ExplorerPage({ slug }: ExplorerPageProps) {
  const queryClient = useQueryClient();
  const project = useQuery(projectQuery(slug)).data;
  const name = project?.name ?? slug;
  const routing = project?.questions.find((q) => q.name === project.routingQuestion);
  const labels = routing?.kind === 'label' ? routing.labels.map((l) => l.name) : [];
  const [form, setForm] = useState<Filters>(() => filtersOf(window.location.search));
  const [applied, setApplied] = useState<Filters>(form);
  const params = useMemo(() => paramsOf(applied), [applied]);
  const search = useInfiniteQuery(searchQuery(slug, params));
  const views = useQuery(viewsQuery(slug));
  const [viewName, setViewName] = useState('');
  const [saved, setSaved] = useState<string | null>(null);

  useEffect(() => {
    document.title = `${name} data · Backflow`;
  }, [name]);

  const apply = (filters: Filters) => {
    setApplied(filters);
    setSaved(null);
    // the search is in the address: it can be shared, and Back comes back to it
    const query = new URLSearchParams(paramsOf(filters)).toString();
    window.history.replaceState(null, '', `${window.location.pathname}${query ? `?${query}` : ''}`);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    apply(form);
  };
  const set = (field: keyof Filters) => (event: { target: { value: string } }) => setForm({ ...form, [field]: event.target.value });

  const save = useMutation({
    mutationFn: () => {
      const filters: Record<string, unknown> = {};
      for (const [key, value] of paramsOf(applied)) {
        if (key === 'slice') filters.slice = [...((filters.slice as string[] | undefined) ?? []), value];
        else filters[key] = key === 'minConfidence' || key === 'maxConfidence' ? Number(value) : value;
      }
      return saveView(slug, { name: viewName.trim(), filters });
    },
    onSuccess: (view) => {
      setSaved(`Saved as “${view.name}”.`);
      setViewName('');
      return queryClient.invalidateQueries({ queryKey: [...explorerScope(slug), 'views'] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => deleteView(slug, id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [...explorerScope(slug), 'views'] }),
  });

  const pages = search.data?.pages ?? [];
  const items = pages.flatMap((page) => page.items);
  const last = pages[pages.length - 1];
  const walked = pages.reduce((sum, page) => sum + page.walked.rows, 0);
  const failure = search.error ?? save.error ?? remove.error;

  return (
    <PageShell className="admin-page explorer-page" back>
      <div className="admin-page__head">
        <h1 className="admin-page__title">{name}: data</h1>
      </div>
      <form className="admin-section explorer-filters" onSubmit={submit} aria-label="Search predictions">
        <div className="explorer-filters__grid">
          <label className="explorer-field explorer-field--wide">
            <span>Text in the input</span>
            <input type="search" value={form.q} onChange={set('q')} placeholder="e.g. refund" data-testid="filter-q" />
          </label>
          <label className="explorer-field">
            <span>Slice</span>
            <input value={form.slice} onChange={set('slice')} placeholder="country:FR, device:mobile" data-testid="filter-slice" />
          </label>
          <label className="explorer-field">
            <span>Model version</span>
            <input value={form.modelVersion} onChange={set('modelVersion')} />
          </label>
          <label className="explorer-field">
            <span>Model’s label</span>
            <input value={form.predictedLabel} onChange={set('predictedLabel')} list="explorer-labels" />
          </label>
          <label className="explorer-field">
            <span>Label</span>
            <input value={form.label} onChange={set('label')} list="explorer-labels" data-testid="filter-label" />
          </label>
          <datalist id="explorer-labels">
            {labels.map((label) => (
              <option key={label} value={label} />
            ))}
          </datalist>
          <label className="explorer-field">
            <span>Label source</span>
            <select value={form.source} onChange={set('source')} data-testid="filter-source">
              <option value="">any</option>
              {EXPLORER_LABEL_SOURCES.map((source) => (
                <option key={source} value={source}>
                  {source === 'none' ? 'not labeled' : source}
                </option>
              ))}
            </select>
          </label>
          <label className="explorer-field">
            <span>Routing reason</span>
            <select value={form.reason} onChange={set('reason')}>
              <option value="">any</option>
              {TASK_REASONS.map((reason) => (
                <option key={reason} value={reason}>
                  {reason}
                </option>
              ))}
            </select>
          </label>
          <label className="explorer-field">
            <span>Task</span>
            <select value={form.task} onChange={set('task')} data-testid="filter-task">
              <option value="">any or none</option>
              {EXPLORER_TASK_STATES.map((task) => (
                <option key={task} value={task}>
                  {task === 'none' ? 'never routed' : task === 'any' ? 'routed' : task}
                </option>
              ))}
            </select>
          </label>
          <label className="explorer-field">
            <span>Confidence from</span>
            <input type="number" min={0} max={1} step={0.01} value={form.minConfidence} onChange={set('minConfidence')} />
          </label>
          <label className="explorer-field">
            <span>Confidence to</span>
            <input type="number" min={0} max={1} step={0.01} value={form.maxConfidence} onChange={set('maxConfidence')} data-testid="filter-max-confidence" />
          </label>
          <label className="explorer-field">
            <span>Made from</span>
            <input type="datetime-local" value={form.from} onChange={set('from')} />
          </label>
          <label className="explorer-field">
            <span>Made before</span>
            <input type="datetime-local" value={form.to} onChange={set('to')} />
          </label>
          <label className="explorer-field">
            <span>Order</span>
            <select value={form.sort} onChange={set('sort')} data-testid="filter-sort">
              {EXPLORER_SORTS.map((sort) => (
                <option key={sort} value={sort}>
                  {SORT_NAMES[sort]}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div className="explorer-filters__actions">
          <Button type="submit" data-testid="search">
            Search
          </Button>
          <Button
            type="button"
            variant="secondary"
            onClick={() => {
              setForm(EMPTY);
              apply(EMPTY);
            }}
          >
            Clear
          </Button>
          <span className="explorer-filters__spacer" />
          <label className="explorer-field explorer-field--inline">
            <span>Saved views</span>
            <select
              value=""
              onChange={(event) => {
                const view = views.data?.find((v) => v.id === event.target.value);
                if (!view) return;
                const filters = filtersOfView(view);
                setForm(filters);
                apply(filters);
              }}
              data-testid="saved-views"
            >
              <option value="">{views.data?.length ? 'Open a view…' : 'none yet'}</option>
              {views.data?.map((view) => (
                <option key={view.id} value={view.id}>
                  {view.name}
                </option>
              ))}
            </select>
          </label>
        </div>
      </form>

      {failure ? <Alert>{errorMessage(failure, 'The search failed.')}</Alert> : null}

      <section className="admin-section" aria-labelledby="results-title">
        <div className="admin-section__head">
          <h2 id="results-title">Predictions</h2>
          <form
            className="explorer-save"
            onSubmit={(event) => {
              event.preventDefault();
              if (viewName.trim()) save.mutate();
            }}
          >
            <label className="explorer-field explorer-field--inline">
              <span>Save this search as</span>
              <input value={viewName} onChange={(event) => setViewName(event.target.value)} maxLength={100} data-testid="view-name" />
            </label>
            <Button type="submit" variant="secondary" disabled={!viewName.trim() || save.isPending} data-testid="save-view">
              Save view
            </Button>
          </form>
        </div>
        {saved ? (
          <p role="status" className="admin-section__lede">
            {saved}
          </p>
        ) : null}
        {search.isPending ? (
          <p className="admin-section__lede">Searching…</p>
        ) : (
          <>
            <p className="admin-section__lede" role="status" data-testid="results-summary">
              {items.length.toLocaleString()} {items.length === 1 ? 'prediction' : 'predictions'} in {ORDER_NAMES[last?.walked.order ?? 'arrival']} order
              {walked > 0 ? ` · ${walked.toLocaleString()} read` : ''}
              {last?.walked.partial && last.walked.through
                ? ` · searched back to ${last.walked.order === 'confidence' ? `confidence ${last.walked.through}` : formatTime(last.walked.through)}`
                : ''}
            </p>
            {items.length ? <ResultsTable slug={slug} items={items} /> : null}
            {search.hasNextPage ? (
              <div>
                <Button variant="secondary" onClick={() => void search.fetchNextPage()} disabled={search.isFetchingNextPage} data-testid="more">
                  {search.isFetchingNextPage ? 'Searching…' : last?.walked.partial ? 'Search further' : 'Show more'}
                </Button>
              </div>
            ) : items.length === 0 ? (
              <p className="admin-section__lede">Nothing matches.</p>
            ) : null}
          </>
        )}
      </section>

      {views.data?.length ? (
        <section className="admin-section" aria-labelledby="views-title">
          <h2 id="views-title">Saved views</h2>
          <table className="admin-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Filters</th>
                <th scope="col">Saved by</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {views.data.map((view) => (
                <tr key={view.id}>
                  <td>{view.name}</td>
                  <td className="explorer-muted">{describeFilters(view.filters)}</td>
                  <td>{view.createdBy ?? '—'}</td>
                  <td>
                    <Button variant="secondary" onClick={() => remove.mutate(view.id)} aria-label={`Delete the view ${view.name}`}>
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </PageShell>
  );
}

function describeFilters(filters: Record<string, unknown>): string {
  const parts = Object.entries(filters).map(([key, value]) => `${key} ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  return parts.length ? parts.join(' · ') : 'everything';
}

function ResultsTable({ slug, items }: { slug: string; items: ExplorerItem[] }) {
  return (
    <div className="explorer-results">
      <table className="admin-table" data-testid="results">
        <thead>
          <tr>
            <th scope="col">Made</th>
            <th scope="col">Input</th>
            <th scope="col">Model</th>
            <th scope="col">Confidence</th>
            <th scope="col">Label</th>
            <th scope="col">Task</th>
            <th scope="col">Slice</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id}>
              <td className="explorer-nowrap" title={`arrived ${formatTime(item.receivedAt)}`}>
                {formatTime(item.occurredAt)}
              </td>
              <td>
                <a
                  href={examplePath(slug, item.id)}
                  onClick={(event) => {
                    if (event.metaKey || event.ctrlKey || event.shiftKey) return;
                    event.preventDefault();
                    navigate(examplePath(slug, item.id));
                  }}
                  className="explorer-preview"
                  data-testid="result-link"
                >
                  {item.preview || '(no text)'}
                </a>
              </td>
              <td className="explorer-nowrap">
                {item.predictedLabel ?? '—'} <span className="explorer-muted">v{item.model.version}</span>
              </td>
              <td>
                <ConfidenceBar value={item.confidence} />
              </td>
              <td>
                {item.label ? <span title={`${item.label.source}, ${formatTime(item.label.at)}`}>{`${item.label.value} (${item.label.source})`}</span> : '—'}
              </td>
              <td>{item.task ? `${item.task.state} · ${item.task.reason}` : '—'}</td>
              <td className="explorer-muted">
                {Object.entries(item.slice)
                  .map(([key, value]) => `${key}:${value}`)
                  .join(' ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A confidence as a bar and its figure: a column of them reads at a glance. */
export function ConfidenceBar({ value }: { value: number | null }) {
  if (value === null) return <span>—</span>;
  return (
    <span className="confidence-bar" title={value.toString()}>
      <span className="confidence-bar__track" aria-hidden="true">
        <span className="confidence-bar__fill" style={{ width: `${Math.round(value * 100)}%` }} />
      </span>
      <span>{value.toFixed(2)}</span>
    </span>
  );
}
