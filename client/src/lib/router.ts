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

/** `/projects/:slug/label` → the slug; undefined for any other path. */
export function labelingSlug(path: string): string | undefined {
  const match = /^\/projects\/([^/]+)\/label\/?$/.exec(path);
  return match ? decodeURIComponent(match[1]) : undefined;
}

export const labelingPath = (slug: string) => `/projects/${encodeURIComponent(slug)}/label`;
