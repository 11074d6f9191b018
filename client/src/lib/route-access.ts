import type { MeResponse } from '@backflow/contracts';
import type { Route } from './router';

/** What a screen needs that the person signed in does not have: the role, and where they stand. */
export interface AccessNeeded {
  /** `member`: any role in the project (rater or reviewer) */
  needs: 'admin' | 'reviewer' | 'member';
  /** the screen, in words: "the settings of spam" */
  screen: string;
  project?: string;
  /** the person's role there: their project role, "admin", or null when not a member */
  yourRole: string | null;
}

const SCREENS: Record<string, string> = {
  settings: 'project settings',
  review: 'review queue',
  quality: 'quality and monitoring page',
  label: 'labeling queue',
  explorer: 'data explorer',
  example: 'example page of the data explorer',
};

/**
 * Whether the signed-in person may open a screen, by the roles the server checks on its routes:
 * settings, users and new projects for admins; review, quality and the data explorer for a project's reviewers;
 * labeling for its members. Null when they may (admins may open everything).
 */
export function accessNeeded(route: Route, session: MeResponse): AccessNeeded | null {
  if (session.user.role === 'admin') return null;
  if (route.page === 'users') return { needs: 'admin', screen: 'users page', yourRole: session.user.role };
  if (route.page === 'new-project') return { needs: 'admin', screen: 'new project page', yourRole: session.user.role };
  // a screen of no project (the projects list, one's own account) opens for everyone signed in
  if (!('slug' in route)) return null;
  const role = session.memberships.find((m) => m.projectSlug === route.slug)?.role ?? null;
  const screen = SCREENS[route.page];
  if (route.page === 'settings') return { needs: 'admin', screen, project: route.slug, yourRole: role };
  if (['review', 'quality', 'explorer', 'example'].includes(route.page) && role !== 'reviewer')
    return { needs: 'reviewer', screen, project: route.slug, yourRole: role };
  if (route.page === 'label' && role === null) return { needs: 'member', screen, project: route.slug, yourRole: null };
  return null;
}
