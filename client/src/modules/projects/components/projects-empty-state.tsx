import { EmptyState } from '../../../ui/empty-state';
import './projects.css';

export interface ProjectsEmptyStateProps {
  isAdmin: boolean;
  email: string;
}

const exampleProject = `{
  "slug": "support-triage",
  "name": "Support ticket triage",
  "taskType": "single_label",
  "labels": [
    { "name": "billing", "hotkey": "1" },
    { "name": "bug", "hotkey": "2" },
    { "name": "other", "hotkey": "3" }
  ],
  "overlap": 2
}`;

export function ProjectsEmptyState({ isAdmin, email }: ProjectsEmptyStateProps) {
  if (isAdmin) {
    return (
      <EmptyState title="No projects yet" icon={<EmptyIcon />} data-testid="projects-empty">
        <p>
          Projects are created through the API or the CLI for now. Send the project settings to <code>POST /api/v1/projects</code>, then add raters with{' '}
          <code>POST /api/v1/projects/:slug/members</code>.
        </p>
        <figure className="code-sample">
          <figcaption className="code-sample__caption">
            <span className="code-sample__method">POST</span> /api/v1/projects
            <span className="visually-hidden">, example request body</span>
          </figcaption>
          <pre className="code-block">
            <code>{exampleProject}</code>
          </pre>
        </figure>
        <p className="empty-state__note">The project appears here as soon as it exists.</p>
      </EmptyState>
    );
  }

  return (
    <EmptyState title="You are not on any project yet" icon={<EmptyIcon />} data-testid="projects-empty">
      <p>
        Ask a Backflow admin to add <strong>{email}</strong> to the project you should label. Once they do, it shows up here and you can start.
      </p>
    </EmptyState>
  );
}

function EmptyIcon() {
  return (
    <svg viewBox="0 0 48 48" width="48" height="48" fill="none" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <rect x="7" y="11" width="34" height="26" rx="5" stroke="currentColor" opacity="0.35" />
      <path d="M15 20h12M15 26h18M15 32h8" stroke="currentColor" opacity="0.35" />
      <circle cx="36" cy="34" r="8" fill="var(--color-surface)" stroke="var(--color-accent)" />
      <path d="M36 30.5v7M32.5 34h7" stroke="var(--color-accent)" />
    </svg>
  );
}
