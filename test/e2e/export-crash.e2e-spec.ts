import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createDatabase } from '../helpers/test-database';
import { loginAt, spawnServer, ServerProcess } from '../helpers/server-process';

const ROWS = 40_000;

describe('export survives kill -9 mid-span', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-export-crash-'));
  let server: ServerProcess | undefined;
  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('shows no partial span, resumes after the restart, and writes the same data files as a clean run', async () => {
    const database = await createDatabase({ empty: true });
    try {
      server = await spawnServer({ DATABASE_URL: database.url, EXPORT_ROOT: root });
      await server.waitReady();
      const token = await loginAt(server.url);
      const slug = `export-crash-${randomUUID().slice(0, 6)}`;
      const call = async (method: string, route: string, body?: unknown, bearer = token) => {
        const response = await fetch(`${server!.url}/api/v1/projects${route}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: response.status, body: await response.json().catch(() => undefined) };
      };
      expect(
        (
          await call('POST', '', {
            slug,
            name: slug,
            taskType: 'single_label',
            labels: [{ name: 'ham' }, { name: 'spam' }],
            routing: { explorationRate: 0 },
            feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
            export: { formats: ['tfrecord', 'jsonl'] },
          })
        ).status,
      ).toBe(201);
      const key = (await call('POST', `/${slug}/api-keys`, { name: 'k', scopes: ['ingest'] })).body.secret as string;
      for (let i = 0; i < ROWS; i += 2_000) {
        const batch = Array.from({ length: 2_000 }, (_, j) => ({
          id: randomUUID(),
          model: { name: 'm', version: '1' },
          input: { text: `example ${i + j} `.repeat(8), n: i + j },
          scores: { ham: 0.7, spam: 0.3 },
        }));
        expect((await call('POST', `/${slug}/predictions/batch`, batch, key)).status).toBe(200);
        expect(
          (
            await call(
              'POST',
              `/${slug}/feedback`,
              batch.map((p) => ({ id: `c-${p.id}`, predictionId: p.id, type: 'click' })),
              key,
            )
          ).status,
        ).toBe(201);
      }

      const started = await call('POST', `/${slug}/exports`, {});
      expect(started.status).toBe(202);
      const job = started.body.job.id as string;
      // kill the server while it writes
      for (let i = 0; i < 2_000; i++) {
        const { body } = await call('GET', `/${slug}/exports/${job}`);
        if (body.rowsWritten > 0 && body.state === 'writing') break;
        if (body.state !== 'writing') throw new Error(`the export finished before it could be interrupted: ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await server.kill9();

      const version1 = path.join(root, slug, 'span-1', 'version-1');
      expect(fs.existsSync(path.join(version1, '_SUCCESS'))).toBe(false);

      // the restarted server finds the unfinished version and writes it again
      server = await spawnServer({ DATABASE_URL: database.url, EXPORT_ROOT: root });
      await server.waitReady();
      let finished: { state: string; rowsWritten: number; files: Array<{ path: string; sha256: string; format: string }> } | undefined;
      for (let i = 0; i < 600 && finished?.state !== 'completed'; i++) {
        finished = (await call('GET', `/${slug}/exports/${job}`)).body;
        if (finished?.state !== 'completed') await new Promise((r) => setTimeout(r, 100));
      }
      expect(finished).toMatchObject({ state: 'completed', rowsWritten: ROWS });
      expect(fs.existsSync(path.join(version1, '_SUCCESS'))).toBe(true);
      expect(fs.readdirSync(path.join(root, slug)).filter((name) => name.startsWith('.writing'))).toEqual([]);

      // a clean writing of the same span (version 2) has the same data files, byte for byte
      const again = await call('POST', `/${slug}/exports`, { span: 1 });
      let clean: typeof finished;
      for (let i = 0; i < 600 && clean?.state !== 'completed'; i++) {
        clean = (await call('GET', `/${slug}/exports/${again.body.job.id}`)).body;
        if (clean?.state !== 'completed') await new Promise((r) => setTimeout(r, 100));
      }
      const sums = (files: Array<{ path: string; sha256: string }>) => Object.fromEntries(files.map((f) => [f.path, f.sha256]));
      expect(sums(clean!.files)).toEqual(sums(finished!.files));
      expect(finished!.files.length).toBeGreaterThanOrEqual(4);
      const [{ n }] = (await call('GET', `/${slug}/spans`)).body.spans.map((s: { rows: number }) => ({ n: s.rows }));
      expect(n).toBe(ROWS);
    } finally {
      if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
      await database.drop();
    }
  });
});
