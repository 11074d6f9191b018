import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { QueryRunner } from 'typeorm';

/**
 * The database's current definitions: each file holds the one definition of its functions or
 * read-model views, beside the module that owns them. Applied in this order (read models before
 * the functions that may read them); the build ships them next to the compiled server.
 */
export const DEFINITION_FILES = [
  'auth/auth.read-models.sql',
  'projects/projects.read-models.sql',
  'predictions/predictions.read-models.sql',
  'feedback/feedback.read-models.sql',
  'labeling/labeling.read-models.sql',
  'labels/labels.read-models.sql',
  'exports/exports.read-models.sql',
  'monitoring/monitoring.read-models.sql',
  'weak/weak.read-models.sql',
  'common/database/partitions.functions.sql',
  'predictions/predictions.functions.sql',
  'feedback/feedback.functions.sql',
  'labels/labels.functions.sql',
  'labeling/labeling.functions.sql',
] as const;

/** Where the definition files are: the server's source (or compiled) root. */
export const DEFINITIONS_ROOT = join(__dirname, '..');

/**
 * (Re)applies each definition file whose content changed since it was last applied, each in a
 * transaction of its own; after dated migrations ran (`afterMigrations`), every file, since a
 * migration may have dropped what a file defines. The caller holds the migration lock.
 * Returns the names applied.
 */
export async function applyDefinitions(runner: QueryRunner, logger: Logger, options: { root?: string; afterMigrations?: boolean } = {}): Promise<string[]> {
  const root = options.root ?? DEFINITIONS_ROOT;
  const rows = (await runner.query('SELECT name, sha256 FROM schema_definitions')) as Array<{ name: string; sha256: string }>;
  const applied = new Map(rows.map((row) => [row.name, row.sha256]));
  const names: string[] = [];
  for (const name of DEFINITION_FILES) {
    const sql = readFileSync(join(root, name), 'utf8');
    const sha256 = createHash('sha256').update(sql).digest('hex');
    if (!options.afterMigrations && applied.get(name) === sha256) continue;
    await runner.startTransaction();
    try {
      await runner.query(sql);
      await runner.query(
        `INSERT INTO schema_definitions (name, sha256) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()`,
        [name, sha256],
      );
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction();
      throw new Error(`database definition ${name} failed: ${(error as Error).message}`, { cause: error });
    }
    logger.info({ definition: name, sha256 }, 'database definition applied');
    names.push(name);
  }
  return names;
}
