import * as fs from 'node:fs';
import type { EmbeddedPostgres } from '../../server/src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__backflowTestDatabase as { embedded: EmbeddedPostgres; dir: string } | undefined;
  if (!state) return;
  await state.embedded.stop({ evenIfShared: true });
  fs.rmSync(state.dir, { recursive: true, force: true });
}
