import { useEffect, useRef } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { AccountMenu } from '../modules/auth/components/account-menu';
import { useSignedInSession } from '../modules/auth/hooks/use-session';
import { projectListQuery } from '../modules/projects/api/projects-api';
import { ProjectList } from '../modules/projects/components/project-list';
import { ProjectListSkeleton } from '../modules/projects/components/project-list-skeleton';
import { ProjectsEmptyState } from '../modules/projects/components/projects-empty-state';
import { errorMessage } from '../lib/api';
import { Alert } from '../ui/alert';
import { AppHeader } from '../ui/app-header';
import { Button } from '../ui/button';
import { navigate, newProjectPath } from '../lib/router';
import './projects-page.css';

export function ProjectsPage() {
  const session = useSignedInSession();
  const queryClient = useQueryClient();
  const projects = useQuery(projectListQuery());
  const headingRef = useRef<HTMLHeadingElement>(null);
  const isAdmin = session.user.role === 'admin';

  useEffect(() => {
    document.title = 'Your projects · Backflow';
    headingRef.current?.focus();
  }, []);

  return (
    <div className="app-shell">
      <AppHeader>
        <AccountMenu />
      </AppHeader>
      <main className="page">
        <div className="page__intro">
          <h1 className="page__title" ref={headingRef} tabIndex={-1}>
            Your projects
          </h1>
          <p className="page__lede">{lede(projects.isSuccess ? projects.data.length : null, isAdmin)}</p>
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

        {projects.isPending ? <ProjectListSkeleton /> : null}
        {projects.isError ? (
          <div className="page__error">
            <Alert title="Could not load your projects">
              <p>{errorMessage(projects.error, 'Could not load your projects.')}</p>
            </Alert>
            {/* a reset, not a refetch: the skeleton shows while it loads again */}
            <Button variant="secondary" onClick={() => void queryClient.resetQueries({ queryKey: projectListQuery().queryKey })}>
              Try again
            </Button>
          </div>
        ) : null}
        {projects.isSuccess && projects.data.length === 0 ? <ProjectsEmptyState isAdmin={isAdmin} email={session.user.email} /> : null}
        {projects.isSuccess && projects.data.length > 0 ? <ProjectList projects={projects.data} isAdmin={isAdmin} /> : null}
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
