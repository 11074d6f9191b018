import { useSyncExternalStore } from 'react';

// A few screens, addressed by path: the server answers every client route with index.html.
const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, '', path);
  listeners.forEach((listener) => listener());
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export type Route =
  | { page: 'projects' }
  | { page: 'new-project' }
  | { page: 'users' }
  | { page: 'account' }
  | { page: 'label' | 'review' | 'quality' | 'explorer'; slug: string }
  | { page: 'settings'; slug: string; section: string }
  | { page: 'example'; slug: string; id: string };

/** The screen a path names; anything unknown is the projects page. */
export function routeOf(path: string): Route {
  if (/^\/projects\/new\/?$/.test(path)) return { page: 'new-project' };
  if (/^\/users\/?$/.test(path)) return { page: 'users' };
  if (/^\/account\/?$/.test(path)) return { page: 'account' };
  const example = /^\/projects\/([^/]+)\/explorer\/([^/]+)\/?$/.exec(path);
  if (example) return { page: 'example', slug: decodeURIComponent(example[1]), id: decodeURIComponent(example[2]) };
  const settings = /^\/projects\/([^/]+)\/settings(?:\/([a-z-]+))?\/?$/.exec(path);
  if (settings) return { page: 'settings', slug: decodeURIComponent(settings[1]), section: settings[2] ?? '' };
  const match = /^\/projects\/([^/]+)\/(label|review|quality|explorer)\/?$/.exec(path);
  if (match) return { page: match[2] as 'label' | 'review' | 'quality' | 'explorer', slug: decodeURIComponent(match[1]) };
  return { page: 'projects' };
}

export const labelingPath = (slug: string) => `/projects/${encodeURIComponent(slug)}/label`;
export const reviewPath = (slug: string) => `/projects/${encodeURIComponent(slug)}/review`;
/** A project's settings: the overview, or one section of them (`routing`, `labeling`…), each at its own address. */
export const settingsPath = (slug: string, section = '') => `/projects/${encodeURIComponent(slug)}/settings${section ? `/${section}` : ''}`;
export const qualityPath = (slug: string) => `/projects/${encodeURIComponent(slug)}/quality`;
export const explorerPath = (slug: string, search = '') => `/projects/${encodeURIComponent(slug)}/explorer${search ? `?${search}` : ''}`;
export const examplePath = (slug: string, id: string) => `/projects/${encodeURIComponent(slug)}/explorer/${encodeURIComponent(id)}`;
export const newProjectPath = '/projects/new';
export const accountPath = '/account';
