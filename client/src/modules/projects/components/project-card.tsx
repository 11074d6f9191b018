import { useQuery } from '@tanstack/react-query';
import { explorerPath, labelingPath, navigate, qualityPath, reviewPath, settingsPath } from '../../../lib/router';
import { queueStatsQuery } from '../../labeling/api/labeling-api';
import { Badge } from '../../../ui/badge';
import { Card } from '../../../ui/card';
import { RoleBadge } from '../../../ui/role-badge';
import type { Project } from '../api/projects-api';
import { asksOneLabel, projectQuestions } from './question-summary';
import { KIND_NAMES } from './questions-editor';

const VISIBLE_LABELS = 8;

const taskTypeNames: Record<string, string> = {
  single_label: 'Single-label classification',
  multi_label: 'Multi-label classification',
  rating: 'Rating',
  numeric: 'Numeric estimate',
  text: 'Text',
  spans: 'Span labeling',
};

const createdFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export interface ProjectCardProps {
  project: Project;
  role?: string;
}

export function ProjectCard({ project, role }: ProjectCardProps) {
  const headingId = `project-${project.id}-name`;
  const questions = projectQuestions(project);
  const visibleLabels = project.labels.slice(0, VISIBLE_LABELS);
  const hiddenLabelCount = project.labels.length - visibleLabels.length;

  return (
    <Card as="article" className="project-card" aria-labelledby={headingId} data-testid="project-card" data-slug={project.slug}>
      <div className="project-card__top">
        <div className="project-card__title">
          <h2 id={headingId} className="project-card__name">
            {project.name}
          </h2>
          <p className="project-card__slug">
            <span className="visually-hidden">Slug: </span>
            {project.slug}
          </p>
        </div>
        {role ? (
          <div className="project-card__role">
            <span className="visually-hidden">Your role: </span>
            <RoleBadge role={role} />
          </div>
        ) : null}
      </div>

      <dl className="project-card__facts">
        <div>
          <dt>Task</dt>
          <dd>{formatTaskType(project.taskType)}</dd>
        </div>
        <div>
          <dt>Overlap</dt>
          <dd>
            {project.overlap} {project.overlap === 1 ? 'rater' : 'raters'} per example
          </dd>
        </div>
      </dl>

      {asksOneLabel(project) ? (
        <div className="project-card__labels">
          <h3 className="project-card__section-title">
            Labels <span className="project-card__count">{project.labels.length}</span>
          </h3>
          {project.labels.length === 0 ? (
            <p className="project-card__none">No labels defined yet.</p>
          ) : (
            <ul className="chip-list">
              {visibleLabels.map((label) => (
                <li key={label.name} className="chip" title={label.description}>
                  <span className="chip__name">{label.name}</span>
                  {label.hotkey ? (
                    <kbd className="chip__hotkey" aria-label={`hotkey ${label.hotkey}`}>
                      {label.hotkey}
                    </kbd>
                  ) : null}
                </li>
              ))}
              {hiddenLabelCount > 0 ? <li className="chip chip--more">+{hiddenLabelCount} more</li> : null}
            </ul>
          )}
        </div>
      ) : (
        <div className="project-card__labels">
          <h3 className="project-card__section-title">
            Questions <span className="project-card__count">{questions.length}</span>
          </h3>
          <ul className="chip-list">
            {questions.map((question) => (
              <li key={question.name} className="chip" title={question.description}>
                <span className="chip__name">{question.name}</span>
                <span className="chip__hotkey">{KIND_NAMES[question.kind].toLowerCase()}</span>
              </li>
            ))}
          </ul>
        </div>
      )}

      <div className="project-card__work">
        <QueueDepth slug={project.slug} />
        <a
          className="button button--primary"
          href={labelingPath(project.slug)}
          onClick={(event) => {
            event.preventDefault();
            navigate(labelingPath(project.slug));
          }}
          data-testid="start-labeling"
        >
          Start labeling
        </a>
      </div>
      {role === 'reviewer' || role === 'admin' ? (
        <a
          className="project-card__review"
          href={reviewPath(project.slug)}
          onClick={(event) => {
            event.preventDefault();
            navigate(reviewPath(project.slug));
          }}
          data-testid="open-review"
        >
          Open the review queue
        </a>
      ) : null}
      {role === 'reviewer' || role === 'admin' ? (
        <a
          className="project-card__review"
          href={qualityPath(project.slug)}
          onClick={(event) => {
            event.preventDefault();
            navigate(qualityPath(project.slug));
          }}
          data-testid="open-quality"
        >
          Quality and monitoring
        </a>
      ) : null}
      {role === 'reviewer' || role === 'admin' ? (
        <a
          className="project-card__review"
          href={explorerPath(project.slug)}
          onClick={(event) => {
            event.preventDefault();
            navigate(explorerPath(project.slug));
          }}
          data-testid="open-explorer"
        >
          Explore the data
        </a>
      ) : null}

      <footer className="project-card__footer">
        <span>Created {formatCreated(project.createdAt)}</span>
        {role === 'admin' ? (
          <a
            href={settingsPath(project.slug)}
            onClick={(event) => {
              event.preventDefault();
              navigate(settingsPath(project.slug));
            }}
            data-testid="project-settings"
          >
            Settings and keys
          </a>
        ) : null}
        {project.maskedFields && project.maskedFields.length > 0 ? (
          <Badge tone="neutral" title={`Hidden from raters: ${project.maskedFields.join(', ')}`}>
            {project.maskedFields.length} masked {project.maskedFields.length === 1 ? 'field' : 'fields'}
          </Badge>
        ) : null}
      </footer>
    </Card>
  );
}

/** How many tasks wait in the project's queue (a member's view: what still needs answers). */
function QueueDepth({ slug }: { slug: string }) {
  const queue = useQuery(queueStatsQuery(slug));
  const depth = queue.isPending ? null : queue.isError ? 'unknown' : queue.data.depth;
  return (
    <p className="project-card__queue" data-testid="card-queue-depth">
      {depth === null
        ? 'Counting the queue…'
        : depth === 'unknown'
          ? 'Queue size unavailable'
          : depth === 0
            ? 'Nothing waiting'
            : `${depth} ${depth === 1 ? 'task waits' : 'tasks wait'}`}
    </p>
  );
}

function formatTaskType(taskType: Project['taskType']): string {
  return taskTypeNames[taskType] ?? taskType.replaceAll('_', ' ');
}

function formatCreated(createdAt: string): string {
  const date = new Date(createdAt);
  return Number.isNaN(date.getTime()) ? createdAt : createdFormat.format(date);
}
