import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiKeyScope } from '@backflow/contracts';
import { errorMessage } from '../lib/api';
import { describeError, errorHeadingOf } from '../lib/error-headings';
import { labelingPath, navigate, qualityPath, routeOf, settingsPath, usePath } from '../lib/router';
import { apiKeysQuery, createApiKey, projectQuery, revokeApiKey, type ApiKey, type Project } from '../modules/projects/api/projects-api';
import { LiveOperations } from '../modules/operations/live-operations';
import { ExportsPanel } from '../modules/exports/exports-panel';
import { ExportSettingsEditor } from '../modules/projects/components/export-settings-editor';
import { LabelingSettingsEditor } from '../modules/projects/components/labeling-settings-editor';
import { MonitoringSettingsEditor } from '../modules/projects/components/monitoring-settings-editor';
import { TaskLayoutEditor } from '../modules/labeling/components/task-layout-editor';
import { IntegrationsPanel } from '../modules/interop/integrations-panel';
import { FeedbackRulesEditor } from '../modules/projects/components/feedback-rules-editor';
import { ProjectEditor } from '../modules/projects/components/project-editor';
import { ProjectPeople } from '../modules/projects/components/project-people';
import { asksOneLabel, QuestionsSummary } from '../modules/projects/components/question-summary';
import { RetentionEditor } from '../modules/projects/components/retention-editor';
import { RoutingEditor } from '../modules/projects/components/routing-editor';
import { WeakSupervisionPanel } from '../modules/projects/components/weak-supervision-panel';
import { Alert } from '../ui/alert';
import { PageShell } from '../ui/page-shell';
import { Button } from '../ui/button';
import { TextField } from '../ui/text-field';
import './admin-pages.css';

export interface ProjectSettingsPageProps {
  slug: string;
}

const SCOPES: Array<{ scope: ApiKeyScope; description: string }> = [
  { scope: 'ingest', description: 'send predictions and feedback (model servers, products)' },
  { scope: 'export:read', description: 'read exported training data (pipelines)' },
  { scope: 'export:write', description: 'start exports and wait for their spans (orchestrators)' },
];

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const format = (iso: string | null) => (iso ? when.format(new Date(iso)) : '—');

/** The sections of a project's settings, each at its own address: what it holds, in the order the loop runs. */
export const SETTINGS_SECTIONS = [
  { id: '', name: 'Overview', says: 'the project, its live operations and the API keys that feed it' },
  { id: 'general', name: 'Project', says: 'name, instructions, overlap, masked fields' },
  { id: 'routing', name: 'Routing', says: 'which predictions people label, with a preview' },
  { id: 'feedback', name: 'Feedback rules', says: 'implicit feedback that becomes labels' },
  { id: 'weak-supervision', name: 'Labeling functions', says: 'rules that vote, with their analysis' },
  { id: 'labeling', name: 'Labeling', says: 'leases, consensus, gold, undo, and the rater screen' },
  { id: 'people', name: 'People', says: 'members and raters' },
  { id: 'monitoring', name: 'Monitoring', says: 'windows, alert thresholds, drift, boosts' },
  { id: 'exports', name: 'Exports', says: 'formats, splits, schedule, webhook, and the spans' },
  { id: 'retention', name: 'Retention', says: 'how long raw predictions stay, and the archive' },
  { id: 'integrations', name: 'Integrations', says: 'KServe, Seldon, Label Studio' },
] as const;

/** An admin's view of one project, a section at a time: the overview, or one group of its settings. */
export function ProjectSettingsPage({ slug }: ProjectSettingsPageProps) {
  const path = usePath();
  const route = routeOf(path);
  const sectionId = route.page === 'settings' ? route.section : '';
  const section = SETTINGS_SECTIONS.find((s) => s.id === sectionId);
  const projectReply = useQuery(projectQuery(slug));
  const keysReply = useQuery({ ...apiKeysQuery(slug), enabled: sectionId === '' });
  const project = projectReply.data ?? null;
  const failure = projectReply.error ?? keysReply.error;
  const error = failure ? errorMessage(failure, 'The project could not be loaded.') : null;

  useEffect(() => {
    document.title = `${project?.name ?? slug} ${section && section.id ? section.name.toLowerCase() : 'settings'} · Backflow`;
  }, [project, slug, section]);

  return (
    <PageShell className="admin-page admin-page--settings" back>
      <div className="admin-page__head">
        <h1 className="admin-page__title">{project?.name ?? slug}</h1>
        <div className="admin-page__actions">
          <Button variant="secondary" onClick={() => navigate(qualityPath(slug))} data-testid="open-quality">
            Quality and monitoring
          </Button>
          <Button variant="secondary" onClick={() => navigate(labelingPath(slug))}>
            Open the labeling queue
          </Button>
        </div>
      </div>
      <div className="settings-layout">
        <nav className="settings-nav" aria-label="Settings">
          <ul>
            {SETTINGS_SECTIONS.map((s) => (
              <li key={s.id}>
                <a
                  href={settingsPath(slug, s.id)}
                  aria-current={s.id === sectionId ? 'page' : undefined}
                  onClick={(event) => {
                    if (event.metaKey || event.ctrlKey || event.shiftKey) return;
                    event.preventDefault();
                    navigate(settingsPath(slug, s.id));
                  }}
                >
                  <span className="settings-nav__name">{s.name}</span>
                  <span className="settings-nav__says">{s.says}</span>
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="settings-content">
          {error ? (
            <Alert title={errorHeadingOf(failure)}>
              <p>{error}</p>
            </Alert>
          ) : null}
          {!section ? (
            <Alert title="No such section">
              <p>
                This project’s settings have no section “{sectionId}”. Choose one on the left, or go to{' '}
                <a
                  href={settingsPath(slug)}
                  onClick={(event) => {
                    event.preventDefault();
                    navigate(settingsPath(slug));
                  }}
                >
                  the overview
                </a>
                .
              </p>
            </Alert>
          ) : project ? (
            <SettingsSection id={section.id} slug={slug} project={project} keys={keysReply.data ?? null} />
          ) : null}
        </div>
      </div>
    </PageShell>
  );
}

function SettingsSection({ id, slug, project, keys }: { id: string; slug: string; project: Project; keys: ApiKey[] | null }) {
  switch (id) {
    case 'general':
      return <ProjectEditor key={`edit-${project.slug}`} project={project} />;
    case 'routing':
      return <RoutingEditor key={`routing-${project.slug}`} project={project} />;
    case 'feedback':
      return <FeedbackRulesEditor key={`feedback-${project.slug}`} project={project} />;
    case 'weak-supervision':
      return <WeakSupervisionPanel key={`weak-${project.slug}`} project={project} />;
    case 'labeling':
      return (
        <>
          <LabelingSettingsEditor key={`labeling-${project.slug}`} project={project} />
          <TaskLayoutEditor key={`layout-${project.slug}`} project={project} />
        </>
      );
    case 'people':
      return <ProjectPeople slug={slug} />;
    case 'monitoring':
      return <MonitoringSettingsEditor key={`monitoring-${project.slug}`} project={project} />;
    case 'exports':
      return (
        <>
          <ExportSettingsEditor key={`export-${project.slug}`} project={project} />
          <ExportsPanel slug={slug} />
        </>
      );
    case 'retention':
      return <RetentionEditor key={`retention-${project.slug}`} project={project} />;
    case 'integrations':
      return <IntegrationsPanel slug={slug} />;
    default:
      return (
        <>
          <ProjectSummary project={project} />
          <ApiKeys slug={slug} keys={keys} />
          <LiveOperations slug={slug} />
        </>
      );
  }
}

function ProjectSummary({ project }: { project: Project }) {
  return (
    <section className="admin-section" aria-labelledby="summary-title">
      <h2 id="summary-title">Project</h2>
      <dl className="admin-facts">
        <div>
          <dt>Slug</dt>
          <dd>
            <code>{project.slug}</code>
          </dd>
        </div>
        {asksOneLabel(project) ? (
          <div>
            <dt>Labels</dt>
            <dd>{project.labels.map((l) => (l.hotkey ? `${l.name} (${l.hotkey})` : l.name)).join(', ')}</dd>
          </div>
        ) : (
          <div className="admin-facts__wide">
            <dt>Questions</dt>
            <dd>
              <QuestionsSummary project={project} />
            </dd>
          </div>
        )}
        <div>
          <dt>Overlap</dt>
          <dd>{project.overlap}</dd>
        </div>
        <div>
          <dt>Masked fields</dt>
          <dd>{project.maskedFields?.length ? project.maskedFields.join(', ') : 'none'}</dd>
        </div>
      </dl>
    </section>
  );
}

function ApiKeys({ slug, keys }: { slug: string; keys: ApiKey[] | null }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['ingest']);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<{ heading: string; message: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: apiKeysQuery(slug).queryKey });

  const creation = useMutation({
    mutationFn: () => createApiKey(slug, { name, scopes }),
    onMutate: () => setError(null),
    onSuccess: (key) => {
      setCreated({ name: key.name, secret: key.secret });
      setCopied(false);
      setName('');
      return refresh();
    },
    onError: (cause) => setError(describeError(cause, 'The key could not be created.')),
  });
  const revocation = useMutation({
    mutationFn: (key: ApiKey) => revokeApiKey(slug, key.id),
    onSuccess: refresh,
    onError: (cause) => setError(describeError(cause, 'The key could not be revoked.')),
  });

  const create = (event: FormEvent) => {
    event.preventDefault();
    creation.mutate();
  };

  const revoke = (key: ApiKey) => {
    if (window.confirm(`Revoke "${key.name}"? Anything using it stops working at once.`)) revocation.mutate(key);
  };

  return (
    <section className="admin-section" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p className="admin-section__lede">
        Model servers and pipelines authenticate with a key scoped to this project. A key's secret is shown once, when it is made.
      </p>

      {created ? (
        <div className="secret-box" role="status" data-testid="new-key">
          <p>
            <strong>{created.name}</strong>: copy this secret now; it will not be shown again.
          </p>
          <div className="secret-box__row">
            <code data-testid="new-key-secret">{created.secret}</code>
            <Button
              variant="secondary"
              onClick={() =>
                void navigator.clipboard
                  ?.writeText(created.secret)
                  .then(() => setCopied(true))
                  .catch(() => setCopied(false))
              }
            >
              {copied ? 'Copied' : 'Copy'}
            </Button>
          </div>
        </div>
      ) : null}
      {error ? (
        <Alert title={error.heading}>
          <p>{error.message}</p>
        </Alert>
      ) : null}

      <form className="admin-form admin-form--inline" onSubmit={create}>
        <TextField
          label="Key name"
          name="keyName"
          hint="Who uses it, e.g. the model server's name."
          value={name}
          required
          onChange={(event) => setName(event.target.value)}
        />
        <fieldset className="admin-form__scopes">
          <legend>Scopes</legend>
          {SCOPES.map(({ scope, description }) => (
            <label key={scope}>
              <input
                type="checkbox"
                name="scope"
                value={scope}
                checked={scopes.includes(scope)}
                onChange={(event) => setScopes((current) => (event.target.checked ? [...current, scope] : current.filter((s) => s !== scope)))}
              />{' '}
              <code>{scope}</code>: {description}
            </label>
          ))}
        </fieldset>
        <Button type="submit" busy={creation.isPending} disabled={!name.trim() || scopes.length === 0}>
          Create key
        </Button>
      </form>

      {keys === null ? (
        <p>Loading keys…</p>
      ) : keys.length === 0 ? (
        <p className="admin-section__lede">No keys yet.</p>
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id} data-testid="api-key-row" className={key.revokedAt ? 'admin-table__row--revoked' : undefined}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}</code>
                </td>
                <td>{key.scopes.join(', ')}</td>
                <td>{format(key.createdAt)}</td>
                <td>{format(key.lastUsedAt)}</td>
                <td>
                  {key.revokedAt ? (
                    `Revoked ${format(key.revokedAt)}`
                  ) : (
                    <Button variant="secondary" onClick={() => revoke(key)} aria-label={`Revoke ${key.name}`}>
                      Revoke
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
