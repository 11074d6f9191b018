import { useEffect, useRef } from 'react';
import { AccountMenu } from '../modules/auth/components/account-menu';
import type { Session } from '../modules/auth/api/session-api';
import { ProjectList } from '../modules/projects/components/project-list';
import { ProjectListSkeleton } from '../modules/projects/components/project-list-skeleton';
import { ProjectsEmptyState } from '../modules/projects/components/projects-empty-state';
import { useProjects } from '../modules/projects/hooks/use-projects';
import { Alert } from '../ui/alert';
import { AppHeader } from '../ui/app-header';
import { Button } from '../ui/button';
import { navigate, newProjectPath } from '../lib/router';
import './projects-page.css';

export interface ProjectsPageProps {
  session: Session;
  onSignOut: () => Promise<void>;
}

export function ProjectsPage({ session, onSignOut }: ProjectsPageProps) {
  const { state, reload } = useProjects();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const isAdmin = session.user.role === 'admin';

  useEffect(() => {
    document.title = 'Your projects · Backflow';
    headingRef.current?.focus();
  }, []);

  return (
    <div className="app-shell">
      <AppHeader>
        <AccountMenu user={session.user} onSignOut={onSignOut} />
      </AppHeader>
      <main className="page">
        <div className="page__intro">
          <h1 className="page__title" ref={headingRef} tabIndex={-1}>
            Your projects
          </h1>
          <p className="page__lede">{lede(state.status === 'ready' ? state.projects.length : null, isAdmin)}</p>
          {isAdmin ? (
            <div>
              <Button onClick={() => navigate(newProjectPath)} data-testid="new-project">
                New project
              </Button>{' '}
              <Button variant="secondary" onClick={() => navigate('/users')} data-testid="users-link">
                Users
              </Button>
            </div>
          ) : null}
        </div>

        {state.status === 'loading' ? <ProjectListSkeleton /> : null}
        {state.status === 'error' ? (
          <div className="page__error">
            <Alert title="Could not load your projects">
              <p>{state.error.message}</p>
            </Alert>
            <Button variant="secondary" onClick={reload}>
              Try again
            </Button>
          </div>
        ) : null}
        {state.status === 'ready' && state.projects.length === 0 ? <ProjectsEmptyState isAdmin={isAdmin} email={session.user.email} /> : null}
        {state.status === 'ready' && state.projects.length > 0 ? <ProjectList projects={state.projects} isAdmin={isAdmin} /> : null}
      </main>
    </div>
  );
}

function lede(count: number | null, isAdmin: boolean): string {
  if (count === null) return 'Loading the projects you can work on…';
  if (count === 0) return isAdmin ? 'This Backflow instance has no projects yet.' : 'No project has been shared with you yet.';
  const noun = count === 1 ? 'project' : 'projects';
  return isAdmin ? `${count} ${noun} with their label sets and review overlap.` : `${count} ${noun} you label for, with their label sets and review overlap.`;
}
