import { DomainError } from '../common/errors';

export const LabelingErrors = {
  taskNotFound: (id: string) => new DomainError('labeling/task_not_found', `task ${id} is not in this project`, 404, 'taskId'),
  taskComplete: () => new DomainError('labeling/task_complete', 'this task has all the answers it needs; claim the next one', 409, 'taskId'),
  alreadyAnswered: () => new DomainError('labeling/already_annotated', 'you have answered this task already', 409, 'taskId'),
  notClaimed: () => new DomainError('labeling/not_claimed', 'claim a task before answering it', 409, 'taskId'),
  leaseExpired: () => new DomainError('labeling/lease_expired', 'your lease on this task has expired; claim again', 409, 'taskId'),
  unknownLabel: (label: string, labels: string[]) =>
    new DomainError('labeling/unknown_label', `label: "${label}" is not one of the project's labels (${labels.join(', ')})`, 400, 'label'),
  annotationIdTaken: () => new DomainError('labeling/annotation_id_conflict', 'id: this annotation id was used for another task or rater', 409, 'id'),
  raterPaused: (slug: string) =>
    new DomainError('labeling/rater_paused', `your answers on gold items in "${slug}" fell below the bar: an admin must resume you`, 403),
  raterNotPaused: () => new DomainError('labeling/rater_not_paused', 'this rater is not paused in this project', 409, 'userId'),
  annotationNotFound: (id: string) =>
    new DomainError('labeling/annotation_not_found', `annotationId: no answer ${id} of yours on this task`, 404, 'annotationId'),
  undoClosed: () =>
    new DomainError(
      'labeling/undo_closed',
      'this task already has the answers it asked for: an answer can be taken back only while the task is still open',
      409,
      'taskId',
    ),
  sittingMoved: (slug: string) =>
    new DomainError(
      'labeling/sitting_moved',
      `you are labeling "${slug}" in another tab or window: go on there, or resume here (which moves your tasks to this one)`,
      409,
    ),
  notInReview: () => new DomainError('labeling/not_in_review', 'this task is not waiting for a review', 409, 'taskId'),
};
