import { z } from 'zod';

export const ErrorBody = z
  .object({
    code: z.string().describe('stable, namespaced: e.g. validation/invalid, auth/forbidden'),
    message: z.string(),
    field: z.string().optional().describe('the request field at fault, dotted: labels.0.name'),
    requestId: z.string(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const Slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, starting with a letter or digit, at most 63');
export const Uuid = z.uuid();
export const Email = z.email().max(320).transform((email) => email.toLowerCase());
