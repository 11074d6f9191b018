import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, TestApp } from '../helpers/test-app';
import { createProject } from '../factories';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', '..', 'server', 'dist', 'cli.js');

describe('the admin CLI, against the same database as a running server', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    return cliWith({}, ...args);
  }

  async function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
        env: { PATH: process.env.PATH, DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'warn', ...env },
      });
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const e = error as { stdout: string; stderr: string; code: number };
      return { stdout: e.stdout, stderr: e.stderr, code: e.code };
    }
  }

  it('creates a user, adds them to a project and issues and revokes a key the server honours', async () => {
    const project = await createProject(app, admin);
    const created = await cli('--json', 'users:create', '--email', 'Cli.Rater@Example.com', '--role', 'rater');
    expect(created.code).toBe(0);
    const { user, password } = JSON.parse(created.stdout);
    expect(user.email).toBe('cli.rater@example.com');
    const raterToken = await app.login('cli.rater@example.com', password);

    expect((await cli('members:add', '--project', project.slug, '--email', user.email, '--role', 'rater')).stdout).toContain(`is now rater on ${project.slug}`);
    expect((await app.request('GET', `/api/v1/projects/${project.slug}`, { token: raterToken })).status).toBe(200);

    const key = JSON.parse((await cli('--json', 'api-keys:create', '--project', project.slug, '--name', 'pipeline', '--scopes', 'export:read')).stdout);
    expect((await app.request('GET', `/api/v1/projects/${project.slug}`, { token: key.secret })).status).toBe(200);
    const listed = await cli('api-keys:list', '--project', project.slug);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).not.toContain(key.secret);
    expect((await cli('api-keys:revoke', '--project', project.slug, '--id', key.id)).code).toBe(0);
    // the running server cached the key; the revocation reaches it by NOTIFY (delivered asynchronously)
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 401; attempt++) {
      status = (await app.request('GET', `/api/v1/projects/${project.slug}`, { token: key.secret })).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);

    const projects = JSON.parse((await cli('--json', 'projects:list')).stdout);
    expect(projects.map((p: { slug: string }) => p.slug)).toContain(project.slug);
    const audit = await app.sql(`SELECT action FROM audit_log WHERE request_id = 'cli' ORDER BY id`);
    expect(audit.map((r) => r.action)).toEqual(['user.created', 'membership.added', 'api_key.created', 'api_key.revoked']);
  });

  it('refuses bad input with the field named and a non-zero exit', async () => {
    const bad = await cli('users:create', '--email', 'not-an-email', '--role', 'rater');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/validation\/invalid: email/);
    const missing = await cli('members:add', '--project', 'no-such-project', '--email', 'x@example.com', '--role', 'rater');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('projects/not_found');
    // an option's value is named by the option
    const span = await cli('export', 'no-such-project', '--span', 'abc');
    expect(span.code).toBe(2);
    expect(span.stderr).toMatch(/validation\/invalid: --span: /);
  });

  it('runs retention for a project as the hourly job would: old unneeded predictions removed, rolled up first', async () => {
    const project = await createProject(app, admin, {
      routing: { strategy: 'least_confidence', threshold: 0.99, explorationRate: 0, dedupeWindowMinutes: 0 },
      retention: { days: 7, archive: false },
    });
    const key = (await app.request('POST', `/api/v1/projects/${project.slug}/api-keys`, { token: admin, body: { name: 'ingest', scopes: ['ingest'] } })).body
      .secret;
    const body = Array.from({ length: 30 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      // ten days ago, and today
      timestamp: new Date(Date.now() - (i < 20 ? 10 * 86_400_000 : 3_600_000) + i * 1_000).toISOString(),
      input: { x: i },
      scores: { ham: 0.8, spam: 0.2 },
    }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body })).status).toBe(200);
    const ran = await cli('--json', 'retention', project.slug);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ dropped: 20, kept: 0, archived: 0, files: [], deferred: 0 });
    const [{ left, rolled }] = await app.sql(
      `SELECT (SELECT count(*)::int FROM predictions WHERE project_id = $1) AS left,
              (SELECT coalesce(sum(predictions), 0)::int FROM prediction_rollups WHERE project_id = $1 AND settled_at IS NOT NULL) AS rolled`,
      [project.id],
    );
    expect([left, rolled]).toEqual([10, 20]);
    expect((await cli('retention', 'no-such-project')).stderr).toContain('projects/not_found');
  });

  it('export --server --wait --json: starts the export on the running server, waits for the span and prints where it is', async () => {
    const project = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
      export: { formats: ['jsonl'] },
    });
    const ingest = JSON.parse((await cli('--json', 'api-keys:create', '--project', project.slug, '--name', 'ingest', '--scopes', 'ingest')).stdout).secret;
    const predictions = Array.from({ length: 25 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'm', version: '1' },
      input: { i },
      scores: { ham: 0.6, spam: 0.4 },
    }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: ingest, body: predictions })).status).toBe(200);
    const events = predictions.map((p) => ({ id: `c-${p.id}`, predictionId: p.id, type: 'click' }));
    expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: ingest, body: events })).status).toBe(201);
    const pipeline = JSON.parse(
      (await cli('--json', 'api-keys:create', '--project', project.slug, '--name', 'argo', '--scopes', 'export:write')).stdout,
    ).secret;

    const noToken = await cliWith({ BACKFLOW_URL: app.url }, 'export', project.slug, '--wait');
    expect(noToken).toMatchObject({ code: 2, stderr: expect.stringContaining('BACKFLOW_TOKEN') });
    const waited = await cliWith({ BACKFLOW_URL: app.url, BACKFLOW_TOKEN: pipeline }, 'export', project.slug, '--wait', '--json');
    expect(waited.code).toBe(0);
    const out = JSON.parse(waited.stdout);
    expect(out).toMatchObject({ span: 1, version: 1, state: 'completed', rows: 25 });
    const [job] = (await app.request('GET', `/api/v1/projects/${project.slug}/spans`, { token: admin })).body.spans[0].versions;
    expect(out.location).toBe(job.location);
    expect(out.files.map((f: { path: string }) => f.path)).toContain('statistics/Split-train/FeatureStats.pb');
    // nothing left: said so, exit 0
    const again = await cliWith({ BACKFLOW_URL: app.url, BACKFLOW_TOKEN: pipeline }, 'export', project.slug, '--wait', '--json');
    expect(JSON.parse(again.stdout)).toEqual({ exported: null });
  });

  it('export with its statistics on a worker thread writes the same bytes as on its own thread', async () => {
    const project = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
      maskedFields: ['email', 'user.phone'],
      export: { formats: ['tfrecord', 'jsonl'], maskedFields: 'hash' },
    });
    const ingest = JSON.parse((await cli('--json', 'api-keys:create', '--project', project.slug, '--name', 'ingest', '--scopes', 'ingest')).stdout).secret;
    // values COPY escapes (tab, newline, backslash), text past ASCII, lists, floats float32 changes, masked fields
    const predictions = Array.from({ length: 2_500 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'm', version: `v${i % 3}` },
      input: {
        subject: `line ${i}\twith a tab\nand a newline \\ café ${'é'.repeat(i % 4)}`,
        email: `person${i % 50}@example.com`,
        'user.phone': `+33 6 ${i}`,
        account: String(9007199254740993n + BigInt(i)),
        score: i / 7,
        tokens: i % 5 === 0 ? [] : ['a', `t${i % 11}`],
        flag: i % 2 === 0,
      },
      scores: { ham: 0.6, spam: 0.4 },
    }));
    const sent = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: ingest, body: predictions });
    expect([sent.status, sent.status === 200 || sent.body]).toEqual([200, true]);
    const events = predictions.map((p) => ({ id: `c-${p.id}`, predictionId: p.id, type: 'click' }));
    for (let i = 0; i < events.length; i += 500)
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: ingest, body: events.slice(i, i + 500) })).status).toBe(201);

    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-cli-export-'));
    try {
      const threaded = await cliWith({ EXPORT_ROOT: root, EXPORT_STATISTICS_THREAD: 'on' }, '--json', 'export', project.slug);
      expect(threaded).toMatchObject({ code: 0 });
      const inPlace = await cliWith({ EXPORT_ROOT: root, EXPORT_STATISTICS_THREAD: 'off' }, '--json', 'export', project.slug, '--span', '1');
      expect(inPlace).toMatchObject({ code: 0 });
      const [one, two] = [threaded, inPlace].map((run) => JSON.parse(run.stdout) as { version: number; rows: number; directory: string });
      expect([one.version, two.version, one.rows]).toEqual([1, 2, 2_500]);
      const read = (directory: string, name: string) => fs.readFileSync(path.join(directory, name));
      const manifests = [one, two].map((v) => JSON.parse(read(v.directory, 'manifest.json').toString('utf8')));
      // every file, the statistics and anomalies among them, byte for byte (by their checksums), and what the manifest says of the inputs
      expect(manifests[0].files).toEqual(manifests[1].files);
      expect(manifests[0].files.map((f: { path: string }) => f.path)).toEqual(
        expect.arrayContaining(['statistics/Split-train/FeatureStats.pb', 'anomalies/Split-eval/SchemaDiff.pb']),
      );
      expect(manifests[0].statistics).toEqual(manifests[1].statistics);
      expect(manifests[0].features).toEqual(manifests[1].features);
      expect(read(one.directory, 'schema.pbtxt').equals(read(two.directory, 'schema.pbtxt'))).toBe(true);
      // the statistics counted the masked fields as exported: hashed, never the stored text
      const statistics = read(one.directory, 'statistics/Split-train/FeatureStats.pb').toString('latin1');
      expect(statistics).toContain('email');
      expect(statistics).not.toContain('@example.com');
      expect(statistics).not.toContain('+33 6');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
