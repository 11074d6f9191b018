import { DomainError } from '../common/errors';

export const ProjectErrors = {
  notFound: (slug: string) => new DomainError('projects/not_found', `no project "${slug}"`, 404, 'slug'),
  slugTaken: (slug: string) => new DomainError('projects/slug_taken', `a project with slug "${slug}" exists`, 409, 'slug'),
  memberNotFound: (userId: string) => new DomainError('memberships/not_found', `user ${userId} is not a member of this project`, 404, 'userId'),
  confirmationMismatch: (slug: string) => new DomainError('projects/confirmation_mismatch', `to delete, pass ?confirm=${slug}`, 400, 'query.confirm'),
};
