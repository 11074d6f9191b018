import { DomainError } from '../common/errors';

export const QualityErrors = {
  notDawidSkene: (slug: string) =>
    new DomainError(
      'quality/not_dawid_skene',
      `labeling.consensus: project ${slug} decides by majority; set it to dawid_skene to re-estimate`,
      409,
      'labeling.consensus',
    ),
};
