import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { UpdateProjectRequestBody } from '@backflow/contracts';
import { projectListQuery, projectQuery, updateProject } from '../api/projects-api';

/** Saves a change to the project: the reply is the project as it now is, and the list of projects is read again when next shown. */
export function useUpdateProject(slug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: UpdateProjectRequestBody) => updateProject(slug, patch),
    onSuccess: (saved) => {
      queryClient.setQueryData(projectQuery(slug).queryKey, saved);
      void queryClient.invalidateQueries({ queryKey: projectListQuery().queryKey });
    },
  });
}
