import { randomBytes, randomUUID } from 'node:crypto';
import { CreateProjectRequest, SubmitAnnotationRequest, UpdateProjectRequest } from '@backflow/contracts';
import { type Actor, UsersService } from '../../server/src/auth/users.service';
import { TaskQueueService } from '../../server/src/labeling/task-queue.service';
import type { ProjectEntity } from '../../server/src/projects/project.entity';
import { ProjectsService } from '../../server/src/projects/projects.service';
import type { ServiceContext } from '../helpers/test-context';
import { projectBody } from './index';

const unique = () => randomBytes(4).toString('hex');

/** Who changes settings in a service test: no user, as the CLI does. */
export const SYSTEM: Actor = { userId: null };

/** A project as POST /projects makes it: the body parsed by the same contract, so every default is filled in. */
export function seedProject(context: ServiceContext, overrides: Record<string, unknown> = {}): Promise<ProjectEntity> {
  return context.get(ProjectsService).create(CreateProjectRequest.parse(projectBody(overrides)), SYSTEM);
}

/** PATCH /projects/:slug: returns the project as it now is (a service holds no stale copy). */
export function updateProject(context: ServiceContext, project: ProjectEntity, patch: Record<string, unknown>): Promise<ProjectEntity> {
  return context.get(ProjectsService).update(project.slug, UpdateProjectRequest.parse(patch), SYSTEM);
}

/** A user with a role, a member of the project when given (raters and reviewers). */
export async function seedUser(context: ServiceContext, role: 'admin' | 'reviewer' | 'rater', project?: ProjectEntity) {
  const users = context.get(UsersService);
  const email = `${role}-${unique()}@example.com`;
  const user = await users.create({ email, password: `Pass-${unique()}-word`, role }, SYSTEM);
  if (project && role !== 'admin') await users.addMember(project, email, role, SYSTEM);
  return { id: user.id, email };
}

/**
 * Claims and answers until nothing is left for this rater, as POST /tasks/claim and
 * POST /tasks/:id/annotations do; `answer` picks the label from the task's input. Returns how many.
 */
export async function labelAll(context: ServiceContext, project: ProjectEntity, raterId: string, answer: (input: Record<string, any>) => string) {
  const labeling = context.get(TaskQueueService);
  let n = 0;
  for (;;) {
    const { task } = await labeling.claim(project, raterId);
    if (!task) return n;
    const submitted = await labeling.submit(
      project,
      raterId,
      task.id,
      SubmitAnnotationRequest.parse({ id: randomUUID(), label: answer(task.input as Record<string, any>), timeSpentMs: 1000 + n }),
    );
    if (submitted.duplicate) throw new Error(`answer to task ${task.id} stored before`);
    n++;
  }
}
