import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiKeyScope } from '@backflow/contracts';
import { errorMessage } from '../lib/api';
import { describeError, errorHeadingOf } from '../lib/error-headings';
import { labelingPath, navigate, qualityPath } from '../lib/router';
import { apiKeysQuery, createApiKey, projectQuery, revokeApiKey, type ApiKey } from '../modules/projects/api/projects-api';
import { LiveOperations } from '../modules/operations/live-operations';
import { ExportsPanel } from '../modules/exports/exports-panel';
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

/** An admin's view of one project: what it is, and the API keys that feed it. */
export function ProjectSettingsPage({ slug }: ProjectSettingsPageProps) {
  const projectReply = useQuery(projectQuery(slug));
  const keysReply = useQuery(apiKeysQuery(slug));
  const project = projectReply.data ?? null;
  const failure = projectReply.error ?? keysReply.error;
  const error = failure ? errorMessage(failure, 'The project could not be loaded.') : null;

  useEffect(() => {
    document.title = `${project?.name ?? slug} settings · Backflow`;
  }, [project, slug]);

  return (
    <PageShell className="admin-page" back>
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
      <nav className="admin-nav" aria-label="Sections">
        {[
          ['ops-title', 'Live operations'],
          ['routing-title', 'Routing'],
          ['members-title', 'Members'],
          ['raters-title', 'Raters'],
          ['exports-title', 'Exports'],
          ['retention-title', 'Retention'],
          ['keys-title', 'API keys'],
          ['edit-title', 'Settings'],
          ['rater-screen-title', 'Rater screen'],
          ['feedback-title', 'Feedback rules'],
        ].map(([id, name]) => (
          <a key={id} href={`#${id}`}>
            {name}
          </a>
        ))}
      </nav>
      {error ? (
        <Alert title={errorHeadingOf(failure)}>
          <p>{error}</p>
        </Alert>
      ) : null}

      {project ? (
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
      ) : null}

      <LiveOperations slug={slug} />

      {project ? <RoutingEditor key={`routing-${project.slug}`} project={project} /> : null}

      {project ? <WeakSupervisionPanel key={`weak-${project.slug}`} project={project} /> : null}

      <ProjectPeople slug={slug} />

      <ExportsPanel slug={slug} />

      {project ? <RetentionEditor key={`retention-${project.slug}`} project={project} /> : null}

      <IntegrationsPanel slug={slug} />

      <ApiKeys slug={slug} keys={keysReply.data ?? null} />

      {project ? <ProjectEditor key={`edit-${project.slug}`} project={project} /> : null}

      {project ? <TaskLayoutEditor key={`layout-${project.slug}`} project={project} /> : null}

      {project ? <FeedbackRulesEditor key={`feedback-${project.slug}`} project={project} /> : null}
    </PageShell>
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
