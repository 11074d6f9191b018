import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
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
  describe('for orchestrators: an export started and its span waited for', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-client-export-'));
    let app: TestApp;
    let admin: string;

    beforeAll(async () => {
      app = await startTestApp({ EXPORT_ROOT: root });
      admin = await app.login();
    });
    afterAll(async () => {
      await app.close();
      fs.rmSync(root, { recursive: true, force: true });
    });

    /** A project with `n` labeled predictions and an export:write key. */
    async function labeled(n: number) {
      const project = await createProject(app, admin, {
        labels: [{ name: 'ham' }, { name: 'spam' }],
        routing: { explorationRate: 0 },
        feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
        export: { formats: ['tfrecord'] },
      });
      const ingest = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
      const predictions = Array.from({ length: n }, (_, i) => ({
        id: randomUUID(),
        model: { name: 'm', version: '1' },
        input: { i },
        scores: { ham: 0.6, spam: 0.4 },
      }));
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: ingest, body: predictions })).status).toBe(200);
      const events = predictions.map((p) => ({ id: `c-${p.id}`, predictionId: p.id, type: 'click' }));
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: ingest, body: events })).status).toBe(201);
      const key = (await createApiKey(app, admin, project.slug, ['export:write'])).secret;
      const env = (step: string) => ({
        BACKFLOW_URL: app.url,
        BACKFLOW_API_KEY: key,
        BACKFLOW_PROJECT: project.slug,
        BACKFLOW_STEP: step,
        PYTHONPATH: 'libs/client-python',
      });
      return { project, env };
    }

    const run = async (env: Record<string, string>) => {
      const result = await python(['libs/client-python/smoke_export.py'], env);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      return JSON.parse(result.stdout.trim()) as Record<string, any>;
    };

    it('export_and_wait returns the written span with its location, and None when nothing is left', async () => {
      const { project, env } = await labeled(50);
      const out = await run(env('wait'));
      expect(out.job).toMatchObject({ span: 1, version: 1, state: 'completed', rows: 50, rowsWritten: 50 });
      expect(out.job.location).toBe(path.join(root, project.slug, 'span-1', 'version-1'));
      expect(fs.existsSync(path.join(out.job.location, '_SUCCESS'))).toBe(true);
      expect(out.states.at(-1)).toBe('completed');
      expect(out.again).toBeNull();
    });

    it('the Airflow sensor starts the export on its first poke, follows that job, and returns the span', async () => {
      const { project, env } = await labeled(30);
      const out = await run(env('airflow'));
      expect(out.job).toMatchObject({ span: 1, state: 'completed', rows: 30, location: path.join(root, project.slug, 'span-1', 'version-1') });
      expect(out.xcomJob).toBe(out.job.id);
      expect(out.kwargs).toEqual({ poke_interval: 30, mode: 'reschedule' });
      // one export, whatever the number of pokes
      expect(await app.sql(`SELECT count(*)::int AS n FROM export_spans WHERE project_id = $1`, [project.id])).toEqual([{ n: 1 }]);
    });

    it('the Kubeflow component returns the location for the next step', async () => {
      const { project, env } = await labeled(20);
      const out = await run(env('kfp'));
      expect(out.location).toBe(path.join(root, project.slug, 'span-1', 'version-1'));
    });
  });
});
