import { QueryClient } from '@tanstack/react-query';

/** The cache of server data: a failed request shows its error at once (no silent retries), and nothing refetches on focus by surprise. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

/** Who is signed in and the projects they are a member of (GET /me). */
export const sessionKey = ['session'] as const;

/** The projects the person can see. */
export const projectListKey = ['projects'] as const;

/** The root of every query key about one project: invalidating it refreshes all that is known of the project. */
export const projectScope = (slug: string) => ['project', slug] as const;
