import { useCallback, useEffect, useState } from 'react';
import { ApiError, isApiError } from '../../../lib/api';
import { fetchProjects, type Project } from '../api/projects-api';

export type ProjectsState = { status: 'loading' } | { status: 'error'; error: ApiError } | { status: 'ready'; projects: Project[] };

export function useProjects(): { state: ProjectsState; reload: () => void } {
  const [state, setState] = useState<ProjectsState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    fetchProjects(controller.signal).then(
      (projects) => setState({ status: 'ready', projects }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({
          status: 'error',
          error: isApiError(error) ? error : new ApiError(0, { code: 'client/unexpected', message: 'Could not load your projects.' }),
        });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  const reload = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((count) => count + 1);
  }, []);

  return { state, reload };
}
