import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { legacyQuestions } from '@backflow/questions';
import { TfRecordWriter } from '@backflow/tfrecord';
import { toExample } from '../../server/src/exports/example-row';
import { ExportColumns } from '../../server/src/exports/fixed-columns';
import { createDatabase } from '../helpers/test-database';
import { freePort } from '../helpers/server-process';
// the demo is plain ESM (.mjs) like the benchmarks; Jest compiles it to CommonJS for the test
import { loadCorpus, parseEmail } from '../../demo/spam-corpus.mjs';
import { evaluate, trainModel } from '../../demo/spam-model.mjs';
import { readSpanRows } from '../../demo/span-rows.mjs';

const root = path.join(__dirname, '..', '..');

describe('demo: the SpamAssassin corpus, the model, spans read back', () => {
  const corpus = loadCorpus({ seed: 1, seedSize: 40 });

  it('loads every email of the corpus with its label, split the same way whatever the seed', () => {
    const all = [...corpus.seed, ...corpus.traffic, ...corpus.test];
    expect(all).toHaveLength(6_046);
    expect(all.filter((e) => e.label === 'spam')).toHaveLength(1_896);
    expect(corpus.test.length).toBeGreaterThan(1_000);
    expect(corpus.test.length).toBeLessThan(1_400);
    const other = loadCorpus({ seed: 2, seedSize: 40 });
    expect(other.test.map((e) => e.source)).toEqual(corpus.test.map((e) => e.source));
    expect(other.seed.map((e) => e.source)).not.toEqual(corpus.seed.map((e) => e.source));
    expect(new Set(all.map((e) => e.format))).toEqual(new Set(['plain', 'html', 'multipart']));
  });

  it('reads an HTML, quoted-printable email as text a rater can read', () => {
    const raw = [
      'From: "Deals" <offers@cheap-stuff.biz>',
      'Subject: =?iso-8859-1?Q?Save_50=25_today?=',
      'Content-Type: text/html; charset="iso-8859-1"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<HTML><BODY><p>Click <a href=3D"http://x">here</a> to save&nbsp;big</p></BODY></HTML>',
    ].join('\n');
    expect(parseEmail(raw)).toEqual({ subject: 'Save 50% today', sender: 'cheap-stuff.biz', body: 'Click here to save big', format: 'html', tld: 'other' });
  });

  it('trains a model that does better with more labeled emails, on emails it never saw', () => {
    const small = evaluate(trainModel(corpus.seed), corpus.test);
    const large = evaluate(trainModel([...corpus.seed, ...corpus.traffic.slice(0, 600)]), corpus.test);
    // predicting "ham" for everything scores 0.67 on the test split
    expect(small.accuracy).toBeGreaterThan(0.7);
    expect(large.accuracy).toBeGreaterThan(small.accuracy + 0.08);
    expect(large.accuracy).toBeGreaterThan(0.9);
    expect(Object.keys(large.slices).sort()).toEqual(['html', 'multipart', 'plain']);
  });

  it('reads back the rows of a span written the way the export writes them', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'demo-span-'));
    try {
      const emails = corpus.traffic.slice(0, 50);
      const features = ['subject', 'sender', 'body', 'format'].map((name) => ({ name, type: 'bytes' as const }));
      const writer = new TfRecordWriter(path.join(directory, 'data_tfrecord-00000-of-00001.gz'));
      for (const [index, email] of emails.entries()) {
        const row = {
          predictionId: `p-${index}`,
          label: email.label,
          answers: { label: email.label },
          source: 'consensus',
          agreement: 1,
          weight: 1,
          input: { ...email },
          modelName: 'spam-filter',
          modelVersion: 'v1',
          bucket: 0,
        };
        await writer.writeExample(toExample(row, features, new ExportColumns(legacyQuestions([{ name: 'ham' }, { name: 'spam' }]), 'label')));
      }
      const file = await writer.close();
      const rows = await readSpanRows([file.path]);
      expect(rows).toEqual(
        emails.map((e, index) => ({
          subject: e.subject,
          sender: e.sender,
          body: e.body,
          format: e.format,
          label: e.label,
          labelSource: 'consensus',
          predictionId: `p-${index}`,
        })),
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('npm run demo, against a real server', () => {
  it('streams predictions, labels them with a simulated rater, lands a span and deploys model v2; SIGTERM stops it and the server', async () => {
    const database = await createDatabase({ empty: true });
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'demo-data-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['demo/demo.mjs', '--raters', '1', '--rate', '20', '--span-every', '8'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: database.url, PORT: String(port), BACKFLOW_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 150_000;
      while (!/model v2 trained/.test(output) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      expect(output).toMatch(/rater1@example\.com \/ \S+/);
      expect(output).toMatch(/span 1 landed: \d+ labels .*read back from its TFRecord files/);
      expect(output).toMatch(/model v2 trained on \d+ emails .*accuracy \d+\.\d%/);

      const token = (
        (await (
          await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: 'admin@example.com', password: 'demo-admin-password' }),
          })
        ).json()) as { token: string }
      ).token;
      const monitoring = (await (
        await fetch(`http://127.0.0.1:${port}/api/v1/projects/spam-demo/monitoring`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { accuracy: Array<{ modelVersion: string }> };
      expect(monitoring.accuracy.map((a) => a.modelVersion)).toContain('v1');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // the server child went with it
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      // and the curve was kept, as a table and as a chart with a point per version
      expect(readFileSync(path.join(dataDir, 'demo-curve.md'), 'utf8')).toMatch(/\| v2 \| span 1 \|/);
      const chart = readFileSync(path.join(dataDir, 'demo-curve.svg'), 'utf8');
      expect(chart).toMatch(/^<svg /);
      expect(chart.match(/<circle /g)?.length).toBeGreaterThanOrEqual(2);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
      await database.drop();
    }
  }, 200_000);
});
