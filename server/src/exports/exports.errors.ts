import { DomainError } from '../common/errors';

export const ExportErrors = {
  spanNotFound: (span: number) => new DomainError('exports/span_not_found', `span: this project has no span ${span}`, 404, 'span'),
  jobNotFound: (id: string) => new DomainError('exports/job_not_found', `job: no export ${id} in this project`, 404, 'job'),
  fileNotFound: () => new DomainError('exports/file_not_found', 'no such file in a complete version of this span', 404, 'path'),
};
