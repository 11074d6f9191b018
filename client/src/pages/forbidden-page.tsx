import { useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useSignedInSession } from '../modules/auth/hooks/use-session';
import { sessionKey } from '../lib/query';
import { labelingPath, navigate } from '../lib/router';
import type { AccessNeeded } from '../lib/route-access';
import { Button } from '../ui/button';
import { PageShell } from '../ui/page-shell';
import './forbidden-page.css';

const ROLE_NAMES: Record<AccessNeeded['needs'], string> = {
  admin: 'the admin role',
  reviewer: 'the reviewer role in this project',
  member: 'a membership of this project (as a rater or a reviewer)',
};

function heading(need: AccessNeeded): string {
  if (need.needs === 'admin') return 'This page is for admins';
  if (need.needs === 'reviewer') return 'This page is for the project’s reviewers';
  return 'You are not a member of this project';
}

/** A screen the person's role does not open (the server would refuse its requests with 403): which role it needs, and theirs. */
export function ForbiddenPage({ need }: { need: AccessNeeded }) {
  const session = useSignedInSession();
  const queryClient = useQueryClient();
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = 'No access · Backflow';
    headingRef.current?.focus();
    // a role or membership given a moment ago: read the session again (the page opens by itself when it allows)
    void queryClient.invalidateQueries({ queryKey: sessionKey });
  }, [queryClient]);

  const where = need.project ? (
    <>
      {' '}
      in <code>{need.project}</code>
    </>
  ) : null;
  const standing =
    need.yourRole === null ? (
      <>you are not a member of it</>
    ) : (
      <>
        your role {need.project ? 'there ' : ''}is <strong>{need.yourRole}</strong>
      </>
    );

  return (
    <PageShell className="page forbidden-page">
      <section className="forbidden-page__box" aria-labelledby="forbidden-title" data-testid="forbidden">
        <p className="forbidden-page__code">403 · no access</p>
        <h1 id="forbidden-title" className="page__title" ref={headingRef} tabIndex={-1}>
          {heading(need)}
        </h1>
        <p>
          Opening the {need.screen}
          {where} needs <strong>{ROLE_NAMES[need.needs]}</strong>. You are signed in as <strong>{session.user.email}</strong>, and {standing}.
        </p>
        <p className="page__lede">Ask an admin of this Backflow to change your role if you need this page.</p>
        <div className="forbidden-page__actions">
          <Button onClick={() => navigate('/')}>Go to your projects</Button>
          {need.project && need.yourRole !== null ? (
            <Button variant="secondary" onClick={() => navigate(labelingPath(need.project!))}>
              Label this project
            </Button>
          ) : null}
        </div>
      </section>
    </PageShell>
  );
}
