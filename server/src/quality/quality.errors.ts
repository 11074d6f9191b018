import { DomainError } from '../common/errors';

export const QualityErrors = {
  notDawidSkene: (slug: string) =>
    new DomainError(
      'quality/not_dawid_skene',
      `labeling.consensus: project ${slug} decides by majority; set it to dawid_skene to re-estimate`,
      409,
      'labeling.consensus',
    ),
  dawidSkeneNeedsLabel: (slug: string, routing: { name: string; kind: string }) =>
    new DomainError(
      'quality/dawid_skene_needs_label',
      `labeling.consensus: project ${slug} routes by "${routing.name}", a ${routing.kind} question; Dawid-Skene classes the answers of a label question only`,
      409,
      'labeling.consensus',
    ),
};
