import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject } from '../factories';

const ROOT = path.join(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs python3 from the repository root; a missing interpreter fails the test, it never skips it. */
function python(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      args,
      // only PATH: an inherited http_proxy would send the client's requests elsewhere; no __pycache__ in the tree
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1', ...env }, timeout: 100_000 },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(new Error('python3 is not on PATH: the Python ingestion client (libs/client-python) needs Python 3.9 or later to be tested'));
          return;
        }
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('the Python ingestion client', () => {
  it('passes its own unit tests', async () => {
    const run = await python(['-m', 'unittest', 'discover', '-s', 'libs/client-python']);
    expect({ code: run.code, tail: run.stderr.slice(-3000) }).toEqual({ code: 0, tail: expect.stringMatching(/\nOK\n?$/) });
  });

  describe('against the real server', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(() => app.close());

    it('stores 1,000 predictions and 200 feedback events once, and counts a re-send as duplicates', async () => {
      const admin = await app.login();
      const project = await createProject(app, admin, { labels: [{ name: 'ham' }, { name: 'spam' }] });
      const key = await createApiKey(app, admin, project.slug, ['ingest']);

      const run = await python(['libs/client-python/smoke_real_server.py'], {
        BACKFLOW_URL: app.url,
        BACKFLOW_API_KEY: key.secret,
        BACKFLOW_PROJECT: project.slug,
      });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const report = JSON.parse(lines[0]);
      expect(report.predictionIds).toBe(1000);
      expect(report.errors).toEqual([]);
      expect(report.first.predictions).toMatchObject({ sent: 1000, accepted: 1000, duplicates: 0, rejected: 0, failed: 0, dropped: 0 });
      expect(report.first.feedback).toMatchObject({ sent: 200, accepted: 200, duplicates: 0, rejected: 0, failed: 0 });
      expect(report.second.total).toMatchObject({ sent: 1000, accepted: 0, duplicates: 1000, failed: 0 });

      const count = async (table: string) => (await app.sql(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1`, [project.id]))[0].n;
      expect(await count('predictions')).toBe(1000);
      expect(await count('feedback_events')).toBe(200);
      const [clicked] = await app.sql(
        `SELECT count(*)::int AS n FROM feedback_events f JOIN predictions p ON p.project_id = f.project_id AND p.id = f.prediction_id WHERE f.project_id = $1 AND f.type = 'click'`,
        [project.id],
      );
      expect(clicked.n).toBe(200);
    });
  });
});
