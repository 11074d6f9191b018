import type { FeedbackReapplyReply, FeedbackReapplyRequestBody } from '@backflow/contracts';
import { apiRequest } from '../../../lib/api';

/** One page of "apply the rules to past feedback": the project's stored feedback decided again under its current rules. */
export function reapplyFeedback(slug: string, body: FeedbackReapplyRequestBody): Promise<FeedbackReapplyReply> {
  return apiRequest<FeedbackReapplyReply>(`/api/v1/projects/${encodeURIComponent(slug)}/feedback/reapply`, { method: 'POST', body });
}
