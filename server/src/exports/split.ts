import { createHash } from 'node:crypto';

/**
 * A prediction's split bucket (0–99): the first 32 bits of the md5 of its id, mod 100. A pure
 * function of the id, so an example never moves between train and eval, in TypeScript and in
 * SQL alike (a test holds the two equal).
 */
export function bucketOf(predictionId: string): number {
  return parseInt(createHash('md5').update(predictionId.toLowerCase()).digest('hex').slice(0, 8), 16) % 100;
}

/** The same bucket in SQL, for a `prediction_id` column. */
export const BUCKET_SQL = (column: string) => `((('x' || substr(md5(${column}::text), 1, 8))::bit(32)::bigint) % 100)::int`;

export type Split = 'train' | 'eval';

export function splitOf(bucket: number, trainPercent: number): Split {
  return bucket < trainPercent ? 'train' : 'eval';
}
