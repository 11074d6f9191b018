import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseSchemaText } from '../../libs/tfmd/src';
import { ExportsService } from '../../server/src/exports/exports.service';
import { ProjectsService } from '../../server/src/projects/projects.service';
import { createApiKey, createProject } from '../factories';
import { startTestApp, TestApp } from '../helpers/test-app';
import { publicTfmdType } from '../helpers/tensorflow-metadata';

/*
 * Issue 23: TFDV's artifacts as a pipeline wrote them go into PUT …/monitoring/baseline and
 * …/schema as files (StatisticsGen's FeatureStats.pb, TFDV's text format, schema.pbtxt), bad ones
 * are refused with the field and nothing stored, and the exported schema keeps the uploaded settings.
 */

const SCHEMA_PBTXT = `# written by tfdv.write_schema_text
feature {
  name: "country"
  value_count {
    min: 1
    max: 1
  }
  type: BYTES
  domain: "country"
  presence {
    min_fraction: 1.0
    min_count: 1
  }
  drift_comparator {
    infinity_norm {
      threshold: 0.01
    }
  }
}
feature {
  name: "minutes"
  type: FLOAT
  skew_comparator {
    jensen_shannon_divergence {
      threshold: 0.05
    }
  }
}
feature {
  name: "tags"
  value_count {
    min: 1
  }
  type: BYTES
}
string_domain {
  name: "country"
  value: "CH"
  value: "FR"
}
`;

describe('monitoring: TFDV statistics and schemas as the pipeline wrote them', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-monitoring-tfdv-'));
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

  const put = (slug: string, route: string, contentType: string, body: Uint8Array | string, token = admin) =>
    fetch(`${app.url}/api/v1/projects/${slug}/monitoring/${route}`, {
      method: 'PUT',
      headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
      body: typeof body === 'string' ? body : Buffer.from(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  async function exportedProject(countries = ['CH', 'FR', 'DE']) {
    const created = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
      export: { formats: ['tfrecord'] },
    });
    const key = (await createApiKey(app, admin, created.slug, ['ingest'])).secret;
    const predictions = Array.from({ length: 120 }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'runs', version: 'v1' },
      input: { country: countries[i % countries.length], minutes: (i % 40) + 0.5, tags: [`t${i % 4}`] },
      scores: { ham: 0.6, spam: 0.4 },
    }));
    expect((await app.request('POST', `/api/v1/projects/${created.slug}/predictions/batch`, { token: key, body: predictions })).status).toBe(200);
    const events = predictions.map((p) => ({ id: `fb-${p.id}`, predictionId: p.id, type: 'click' }));
    expect((await app.request('POST', `/api/v1/projects/${created.slug}/feedback`, { token: key, body: events })).status).toBe(201);
    const entity = async () => (await app.app.get(ProjectsService).findBySlug(created.slug))!;
    /** more labeled predictions of the same project */
    const more = async (inputs: Array<Record<string, unknown>>) => {
      const next = inputs.map((input) => ({ id: randomUUID(), model: { name: 'runs', version: 'v1' }, input, scores: { ham: 0.6, spam: 0.4 } }));
      expect((await app.request('POST', `/api/v1/projects/${created.slug}/predictions/batch`, { token: key, body: next })).status).toBe(200);
      const clicks = next.map((p) => ({ id: `fb-${p.id}`, predictionId: p.id, type: 'click' }));
      expect((await app.request('POST', `/api/v1/projects/${created.slug}/feedback`, { token: key, body: clicks })).status).toBe(201);
    };
    return { slug: created.slug, entity, more };
  }

  it("takes StatisticsGen's FeatureStats.pb as the baseline, and TFDV's text format", async () => {
    const p = await exportedProject();
    const exported = (await app.app.get(ExportsService).exportNext(await p.entity()))!;
    const pb = fs.readFileSync(path.join(exported.directory, 'statistics', 'Split-train', 'FeatureStats.pb'));

    const taken = await put(p.slug, 'baseline', 'application/x-protobuf', pb);
    expect(taken.status).toBe(200);
    expect(taken.body.features).toEqual([
      'country',
      'inclusion_probability',
      'label',
      'label_name',
      'label_source',
      'minutes',
      'model_version',
      'prediction_id',
      'tags',
      'weight',
    ]);
    const [row] = await app.sql(`SELECT baseline, tfdv_statistics FROM feature_schemas fs JOIN projects p ON p.id = fs.project_id WHERE p.slug = $1`, [p.slug]);
    // a number binned on its quantiles' boundaries, a string by its counts; the dataset kept whole
    expect(row.baseline.features.minutes.kind).toBe('numeric');
    expect(row.baseline.features.minutes.counts.length).toBe(row.baseline.features.minutes.edges.length + 1);
    expect(row.baseline.features.country).toEqual({ kind: 'categorical', frequencies: expect.objectContaining({ CH: expect.any(Number) }) });
    expect(row.tfdv_statistics.num_examples).toBe(exported.manifest.splits.train);

    const text = `datasets {
  num_examples: 10
  features {
    path { step: "hour" }
    type: INT
    num_stats {
      common_stats { num_non_missing: 10 }
      histograms { buckets { low_value: 0 high_value: 11 sample_count: 5 } buckets { low_value: 11 high_value: 23 sample_count: 5 } type: QUANTILES }
    }
  }
  features { path { step: "empty" } type: FLOAT num_stats { } }
}`;
    const fromText = await put(p.slug, 'baseline', 'text/x-protobuf', text);
    expect(fromText).toEqual({ status: 200, body: { features: ['hour'], notes: ['empty: no histogram or value counts, left out'] } });
  });

  it('refuses what is not statistics or a schema with a stable code naming the body, and keeps what it had', async () => {
    const p = await exportedProject();
    expect((await put(p.slug, 'baseline', 'text/x-protobuf', 'datasets { num_examples: "ten" }')).body).toMatchObject({
      code: 'monitoring/invalid_statistics',
      field: 'body',
      message: expect.stringContaining('line 1'),
    });
    expect((await put(p.slug, 'baseline', 'application/x-protobuf', Uint8Array.from([0x0a, 0xff, 0xff]))).status).toBe(400);
    expect((await put(p.slug, 'baseline', 'application/x-protobuf', new Uint8Array())).body).toMatchObject({ code: 'monitoring/invalid_statistics' });
    const badSchema = await put(p.slug, 'schema', 'text/x-protobuf', 'feature {\n  name: "x"\n  type: TEXT\n}\n');
    expect(badSchema).toMatchObject({
      status: 400,
      body: { code: 'monitoring/invalid_schema', field: 'body', message: expect.stringContaining('line 3, column 9') },
    });
    expect(await app.sql(`SELECT count(*)::int AS n FROM feature_schemas fs JOIN projects p ON p.id = fs.project_id WHERE p.slug = $1`, [p.slug])).toEqual([
      { n: 0 },
    ]);
    // no one without a token replaces it
    const anonymous = await app.request('PUT', `/api/v1/projects/${p.slug}/monitoring/schema`, {
      token: null,
      raw: SCHEMA_PBTXT,
      headers: { 'content-type': 'text/x-protobuf' },
    });
    expect(anonymous.status).toBe(401);
  });

  it("takes a schema.pbtxt, and the next span's schema keeps its settings", async () => {
    const p = await exportedProject();
    const uploaded = await put(p.slug, 'schema', 'text/x-protobuf', SCHEMA_PBTXT);
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({
      source: 'uploaded',
      features: [
        { name: 'country', type: 'string', required: true, domain: ['CH', 'FR'] },
        { name: 'minutes', type: 'float', required: false },
        { name: 'tags', type: 'string_list', required: false },
      ],
    });
    // the span: its schema.pbtxt is SchemaGen's inference with the uploaded features as they were uploaded
    const exported = (await app.app.get(ExportsService).exportNext(await p.entity()))!;
    const { schema } = parseSchemaText(fs.readFileSync(path.join(exported.directory, 'schema.pbtxt'), 'utf8'));
    const byName = Object.fromEntries((schema.feature as Array<{ name: string }>).map((f) => [f.name, f]));
    expect(byName.country).toEqual({
      name: 'country',
      value_count: { min: '1', max: '1' },
      type: 'BYTES',
      domain: 'country',
      presence: { min_fraction: 1, min_count: '1' },
      drift_comparator: { infinity_norm: { threshold: 0.01 } },
    });
    expect(byName.minutes.skew_comparator).toEqual({ jensen_shannon_divergence: { threshold: 0.05 } });
    expect(schema.string_domain).toContainEqual({ name: 'country', value: ['CH', 'FR'] });
    // what only the data has is inferred
    expect(byName.model_version).toMatchObject({ type: 'BYTES', presence: { min_fraction: 1 } });

    // a schema uploaded as JSON replaces the TFDV one
    await app.request('PUT', `/api/v1/projects/${p.slug}/monitoring/schema`, { token: admin, body: { features: [{ name: 'country', type: 'string' }] } });
    const [row] = await app.sql(`SELECT tfdv_schema FROM feature_schemas fs JOIN projects p ON p.id = fs.project_id WHERE p.slug = $1`, [p.slug]);
    expect(row.tfdv_schema).toBeNull();
  });

  it("validates each span's statistics against its schema and the previous span, as ExampleValidator and TFDV's drift comparator, into anomalies/Split-*/SchemaDiff.pb", async () => {
    const p = await exportedProject(['CH', 'FR']);
    expect((await put(p.slug, 'schema', 'text/x-protobuf', SCHEMA_PBTXT)).status).toBe(200);
    const exportsService = app.app.get(ExportsService);
    const first = (await exportsService.exportNext(await p.entity()))!;
    expect(
      first.manifest.files
        .filter((f) => f.format === 'anomalies')
        .map((f) => f.path)
        .sort(),
    ).toEqual(['anomalies/Split-eval/SchemaDiff.pb', 'anomalies/Split-train/SchemaDiff.pb']);
    expect(first.manifest.anomalies!.train).toEqual({});

    // the next span: the runs are suggested in Italy alone
    await p.more(Array.from({ length: 120 }, (_, i) => ({ country: 'IT', minutes: (i % 40) + 0.5, tags: [`t${i % 4}`] })));
    const second = (await exportsService.exportNext(await p.entity()))!;
    expect(second.manifest.anomalies!.train.country).toEqual(['ENUM_TYPE_UNEXPECTED_STRING_VALUES', 'COMPARATOR_L_INFTY_HIGH']);

    // decoded with the public anomalies.proto, not the writer's definitions
    const Anomalies = publicTfmdType('Anomalies');
    const decoded = Anomalies.toObject(Anomalies.decode(fs.readFileSync(path.join(second.directory, 'anomalies/Split-train/SchemaDiff.pb'))), {
      enums: String,
      longs: Number,
    });
    expect(decoded.anomaly_name_format).toBe('SERIALIZED_PATH');
    const country = decoded.anomaly_info.country;
    expect(country.short_description).toBe('Multiple errors');
    expect(country.reason[0].description).toMatch(/^Examples contain values missing from the schema: IT \(~\d+%\)\. $/);
    expect(country.reason[1].description).toMatch(
      /^The Linfty distance between current and previous is [\d.]+ \(up to six significant digits\), above the threshold 0\.01\. The feature value with maximum difference is: IT$/,
    );
    const drift = decoded.drift_skew_info.find((d: { path: { step: string[] } }) => d.path.step[0] === 'country');
    expect(drift.drift_measurements[0]).toMatchObject({ type: 'L_INFTY', threshold: 0.01 });
    expect(drift.drift_measurements[0].value).toBeGreaterThan(0.5);
    expect(decoded.baseline.feature.find((f: { name: string }) => f.name === 'country').drift_comparator).toEqual({ infinity_norm: { threshold: 0.01 } });
  });
});
