import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { errorMessage } from '../../../lib/api';
import { projectScope } from '../../../lib/query';
import { Alert } from '../../../ui/alert';
import { Button } from '../../../ui/button';
import { reapplyFeedback } from '../api/feedback-api';
import './reapply-feedback.css';

// predictions with feedback decided again per request (one transaction each)
const PAGE = 500;

interface Progress {
  examined: number;
  labeled: number;
  total: number;
}

/**
 * Offered once rules are saved: the feedback that arrived before them was decided by the rules of
 * its time, and this decides all of it again under the saved ones, a page at a time, with its
 * progress. Running it again writes nothing twice; a human label stays the current one.
 */
export function ReapplyFeedback({ slug }: { slug: string }) {
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<Progress | null>(null);
  const run = useMutation({
    mutationFn: async () => {
      let cursor: string | undefined;
      const seen: Progress = { examined: 0, labeled: 0, total: 0 };
      do {
        const reply = await reapplyFeedback(slug, { limit: PAGE, ...(cursor ? { cursor } : {}) });
        if (reply.total !== undefined) seen.total = reply.total;
        seen.examined += reply.examined;
        seen.labeled += reply.labeled;
        setProgress({ ...seen });
        cursor = reply.nextCursor ?? undefined;
      } while (cursor);
      return seen;
    },
    onMutate: () => setProgress(null),
    onSettled: () => queryClient.invalidateQueries({ queryKey: projectScope(slug) }),
  });
  const labels = (n: number) => `${n.toLocaleString()} feedback label${n === 1 ? '' : 's'}`;

  return (
    <div className="reapply-feedback" data-testid="reapply-feedback">
      <p className="admin-section__lede">
        Feedback that arrived before these rules was decided by the rules of its time. Apply the saved rules to it too: labels are written as if the rules had
        been there when it came, a human label stays the current one, and applying twice writes nothing twice.
      </p>
      <div className="admin-form__actions">
        <Button variant="secondary" onClick={() => run.mutate()} busy={run.isPending} data-testid="reapply-feedback-button">
          {run.isSuccess ? 'Apply again' : 'Apply to past feedback'}
        </Button>
      </div>
      {progress ? (
        <div className="export-progress" aria-live="polite" data-testid="reapply-feedback-status">
          <p>
            {run.isPending ? 'Applying the rules: ' : 'Done: '}
            {progress.examined.toLocaleString()} of {progress.total.toLocaleString()} predictions with feedback decided again, {labels(progress.labeled)}{' '}
            written
            {run.isPending ? '…' : '.'}
          </p>
          <progress max={progress.total || 1} value={progress.examined} aria-label="Predictions with feedback decided again" />
        </div>
      ) : null}
      {run.error ? (
        <Alert title="Not applied">
          <p>{errorMessage(run.error, 'The rules could not be applied to past feedback; what was applied before stays.')}</p>
        </Alert>
      ) : null}
    </div>
  );
}
