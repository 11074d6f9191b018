import { z } from 'zod';

export const ExportRequest = z
  .strictObject({
    span: z
      .number()
      .int()
      .min(1)
      .max(2_147_483_647)
      .optional()
      .describe('write a new version of this span with the current settings; absent: the next span, with every label not yet exported'),
  })
  .meta({ id: 'ExportRequest' });
export type ExportRequest = z.infer<typeof ExportRequest>;

export const EXPORT_STATES = ['writing', 'completed', 'failed'] as const;

export const ExportFile = z.object({
  path: z.string().describe('relative to the version directory'),
  format: z.string(),
  split: z.enum(['train', 'eval']),
  rows: z.number().int(),
  bytes: z.number().int(),
  sha256: z.string(),
});

/** An export job is the writing of one version of one span. */
export const ExportJob = z
  .object({
    id: z.string().describe('the id to follow it by: GET /exports/:id'),
    span: z.number().int(),
    version: z.number().int(),
    state: z.enum(EXPORT_STATES),
    rows: z.number().int().describe('rows in the span'),
    rowsWritten: z.number().int(),
    error: z.string().nullable(),
    warnings: z
      .array(z.string())
      .describe('stored values the export could not write as they are (left out, and counted per feature in the manifest); empty when every value was written'),
    directory: z.string().describe('span-N/version-M under the export root'),
    location: z.string().describe("the version's folder in the export store, where a pipeline reads it: a path on the server's disk, or s3://bucket/prefix/…"),
    files: z.array(ExportFile).describe('when complete'),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'ExportJob' });
export type ExportJob = z.infer<typeof ExportJob>;

export const ExportStarted = z.object({ job: ExportJob.nullable().describe('null when no label waits to be exported') }).meta({ id: 'ExportStarted' });
export type ExportStarted = z.infer<typeof ExportStarted>;

export const SpanList = z
  .object({
    spans: z.array(
      z.object({
        span: z.number().int(),
        rows: z.number().int(),
        labelFrom: z.string().nullable(),
        labelTo: z.string().nullable(),
        versions: z.array(ExportJob),
      }),
    ),
  })
  .meta({ id: 'SpanList' });
export type SpanList = z.infer<typeof SpanList>;

/** Pushed to admins while an export writes. */
export interface ExportProgress {
  project: string;
  job: string;
  span: number;
  version: number;
  rowsWritten: number;
  rows: number;
  state: (typeof EXPORT_STATES)[number];
}
