import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { encodeExample, frameRecord, type ExampleFeatures } from '@backflow/tfrecord';
import { createApiKey, createProject, createUser } from '../factories';
import { backdatePredictions } from '../helpers/backdate';
import { publicTfmdType } from '../helpers/tensorflow-metadata';
import { startTestApp, TestApp } from '../helpers/test-app';
import { SCHEMA_PBTXT, TRAINING_STATISTICS } from '../factories/tfdv-artifacts';

/*
 * Issue 23, items 3 and 4: the serving window judged by TFDV's rules inside monitoring — the
 * uploaded schema's drift and skew comparators, its checks (schema skew), anomalies with
 * tensorflow_metadata's names and as an Anomalies proto — and feature skew between uploaded
 * training examples and the predictions of the same ids. The running example: a run recommender
 * whose serving traffic moves to one country and longer runs than it was trained on.
 */

describe('monitoring: TFDV’s rules on the serving window, and training–serving skew', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(async () => {
    await app.close();
  });

  async function setUp(settings: Record<string, unknown> = {}) {
    const project = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { threshold: 0.99, explorationRate: 0 },
      monitoring: { drift: { minCount: 20 } },
      ...settings,
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const route = (p: string) => `/api/v1/projects/${project.slug}/monitoring${p}`;
    const ingest = async (inputs: Array<Record<string, unknown>>) => {
      const predictions = inputs.map((input) => ({
        id: randomUUID(),
        model: { name: 'runs', version: 'v1' },
        input,
        scores: { ham: 0.9, spam: 0.1 },
        slice: { country: String(input.country) },
      }));
      expect((await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions })).status).toBe(200);
      return predictions;
    };
    const put = (p: string, contentType: string, body: string | Uint8Array) =>
      fetch(`${app.url}${route(p)}`, {
        method: 'PUT',
        headers: { 'content-type': contentType, authorization: `Bearer ${admin}` },
        body: typeof body === 'string' ? body : Buffer.from(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
    const get = (p: string, headers: Record<string, string>, token = admin) =>
      fetch(`${app.url}${route(p)}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    return { ...project, route, ingest, put, get };
  }

  it('judges the window by the uploaded schema: its comparators by TFDV’s definitions, its checks as schema skew, TFDV’s names, and an Anomalies proto', async () => {
    const p = await setUp({ maskedFields: ['country'] });
    // the reference window, two days ago: CH and FR evenly, 0–40 minutes
    await p.ingest(Array.from({ length: 40 }, (_, i) => ({ country: i % 2 ? 'FR' : 'CH', minutes: (i % 40) + 0.5 })));
    await backdatePredictions(app, p.id, `now() - interval '2 days'`);
    // serving now: 80% FR, 20% DE (not in the schema's domain), 30–70 minutes
    await p.ingest(Array.from({ length: 50 }, (_, i) => ({ country: i % 5 === 0 ? 'DE' : 'FR', minutes: (i % 40) + 30.5 })));
    expect((await p.put('/schema', 'text/x-protobuf', SCHEMA_PBTXT)).status).toBe(200);
    expect((await p.put('/baseline', 'text/x-protobuf', TRAINING_STATISTICS)).status).toBe(200);

    const reply = (await app.request('GET', p.route(''), { token: admin })).body;
    // drift by the schema's drift_comparator: L-infinity of the country shares, window against window (CH: 0.5 then 0)
    const country = reply.drift.find((d: any) => d.feature === 'country');
    expect(country).toMatchObject({ comparator: 'schema', metric: 'l_infinity', threshold: 0.1, baseline: 'reference_window', drifted: true });
    expect(country.value).toBeCloseTo(0.5, 12);
    // within FR the shares did not move; DE has no reference
    expect(country.slices).toEqual([{ slice: 'country=FR', value: 0, count: 40 }]);
    // a feature without a comparator keeps the project's thresholds
    expect(reply.drift.find((d: any) => d.feature === 'minutes')).toMatchObject({ comparator: 'settings', metric: 'jensen_shannon', threshold: 0.1 });

    // distribution skew: minutes by its skew_comparator (training statistics against the window's), country by the thresholds
    expect(reply.skew).toMatchObject({ schema: 'tfdv', environment: 'SERVING', trainingStatistics: true, feature: null });
    const minutes = reply.skew.distribution.find((d: any) => d.feature === 'minutes');
    expect(minutes).toMatchObject({ comparator: 'schema', metric: 'jensen_shannon', threshold: 0.05, skewed: true });
    expect(minutes.value).toBeGreaterThan(0.5);
    expect(reply.skew.distribution.find((d: any) => d.feature === 'country')).toMatchObject({ comparator: 'settings', metric: 'l_infinity', skewed: true });

    // TFDV's validation of the window: the off-domain value (schema skew), the comparators; the label is not expected in SERVING
    const tfdv = Object.fromEntries(reply.anomalies.tfdv.map((a: any) => [a.feature, a]));
    expect(Object.keys(tfdv).sort()).toEqual(['country', 'minutes']);
    expect(tfdv.country.types).toEqual(['ENUM_TYPE_UNEXPECTED_STRING_VALUES', 'COMPARATOR_L_INFTY_HIGH']);
    expect(tfdv.country.slices).toEqual(['country=DE']);
    expect(tfdv.country.description).toContain('Examples contain values missing from the schema: DE (~20%).');
    expect(tfdv.minutes.types).toEqual(['COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH']);

    // as TFDV's own Anomalies, decoded by the public definitions: the same figures
    const binary = await p.get('/anomalies', { accept: 'application/x-protobuf' });
    expect(binary.headers.get('content-type')).toBe('application/x-protobuf');
    const Anomalies = publicTfmdType('Anomalies');
    const decoded = Anomalies.toObject(Anomalies.decode(new Uint8Array(await binary.arrayBuffer())), { enums: String }) as any;
    expect(decoded.anomaly_info.country.reason.map((r: any) => r.type)).toEqual(['ENUM_TYPE_UNEXPECTED_STRING_VALUES', 'COMPARATOR_L_INFTY_HIGH']);
    const measured = Object.fromEntries(decoded.drift_skew_info.map((d: any) => [d.path.step[0], d]));
    expect(measured.country.drift_measurements).toEqual([{ type: 'L_INFTY', value: country.value, threshold: 0.1 }]);
    expect(measured.minutes.skew_measurements[0]).toMatchObject({ type: 'JENSEN_SHANNON_DIVERGENCE', threshold: 0.05 });
    expect(measured.minutes.skew_measurements[0].value).toBeCloseTo(minutes.value, 12);
    const text = await p.get('/anomalies', { accept: 'text/x-protobuf' });
    expect(text.headers.get('content-type')).toBe('text/x-protobuf; charset=utf-8');
    expect(await text.text()).toMatch(/anomaly_info \{\n {2}key: "country"/);

    // the window's statistics, as StatisticsGen would write them
    const stats = await p.get('/statistics?format=binary', {});
    const List = publicTfmdType('DatasetFeatureStatisticsList');
    const list = List.toObject(List.decode(new Uint8Array(await stats.arrayBuffer())), { enums: String, longs: Number }) as any;
    expect(list.datasets[0]).toMatchObject({ name: 'serving', num_examples: 50 });
    const countryStats = list.datasets[0].features.find((f: any) => f.path.step[0] === 'country');
    expect(countryStats.string_stats.rank_histogram.buckets.map((b: any) => [b.label, b.sample_count])).toEqual([
      ['FR', 40],
      ['DE', 10],
    ]);

    // the schema as schema.pbtxt
    const schema = await p.get('/schema', { accept: 'text/x-protobuf' });
    expect(await schema.text()).toContain('not_in_environment: "SERVING"');

    // alerts by kind with TFDV's names: drift, schema skew, distribution skew
    const raised = (await app.request('POST', p.route('/evaluate'), { token: admin })).body.raised;
    const bySubject = Object.fromEntries(raised.map((a: any) => [`${a.kind} ${a.feature} ${a.slice ?? '*'}`, a.anomalyType]));
    expect(bySubject).toMatchObject({
      'drift country *': 'COMPARATOR_L_INFTY_HIGH',
      'skew country *': 'ENUM_TYPE_UNEXPECTED_STRING_VALUES',
      'skew minutes *': 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH',
      'skew minutes country=FR': 'COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH',
    });
    // with an uploaded schema, TFDV's checks replace the per-example anomaly rates
    expect(raised.filter((a: any) => a.kind === 'anomaly')).toEqual([]);

    // country is masked: a reviewer gets TFDV's findings without its values
    const reviewer = await createUser(app, admin, 'reviewer', p);
    const seen = (await app.request('GET', p.route(''), { token: reviewer.token })).body;
    expect(seen.anomalies.tfdv.find((a: any) => a.feature === 'country').description).toBe('Multiple errors');
    const reviewerAnomalies = await (await p.get('/anomalies?format=text', {}, reviewer.token)).text();
    expect(reviewerAnomalies).not.toContain('DE');
    expect(reviewerAnomalies).not.toContain('value: "CH"');
    const reviewerStats = List.toObject(List.decode(new Uint8Array(await (await p.get('/statistics?format=binary', {}, reviewer.token)).arrayBuffer())), {
      longs: Number,
    }) as any;
    const hidden = reviewerStats.datasets[0].features.find((f: any) => f.path.step[0] === 'country').string_stats;
    expect(hidden.common_stats.num_non_missing).toBe(50);
    expect([hidden.rank_histogram?.buckets, hidden.top_values]).toEqual([undefined, undefined]);
    expect((await p.get('/schema?format=binary', {})).status).toBe(406);
    const rater = await createUser(app, admin, 'rater', p);
    expect((await p.get('/anomalies', {}, rater.token)).status).toBe(403);
  });

  it('finds feature skew between training examples and the predictions of their ids, per feature and slice, as TFDV’s detector counts it', async () => {
    const p = await setUp({ monitoring: { drift: { minCount: 20 }, skew: { minPairs: 10 } } });
    const served = await p.ingest(Array.from({ length: 40 }, (_, i) => ({ country: i % 2 ? 'FR' : 'CH', minutes: i + 0.1, shoe: `s${i % 3}` })));
    // the training pipeline recomputed minutes for FR runs (rounded), dropped shoe, and added a feature serving never sends
    const examples: ExampleFeatures[] = served.slice(0, 30).map((s, i) => ({
      prediction_id: { kind: 'bytes', values: [s.id] },
      label: { kind: 'int64', values: [0] },
      label_source: { kind: 'bytes', values: ['feedback'] },
      country: { kind: 'bytes', values: [String(s.input.country)] },
      minutes: { kind: 'float', values: [s.input.country === 'FR' ? Math.round(i + 0.1) : i + 0.1] },
      weather: { kind: 'bytes', values: ['sunny'] },
    }));
    // and one example whose prediction Backflow never saw
    examples.push({ prediction_id: { kind: 'bytes', values: [randomUUID()] }, minutes: { kind: 'float', values: [1] } });
    const tfrecord = gzipSync(Buffer.concat(examples.map((e) => frameRecord(encodeExample(e)))));

    const uploaded = await p.put('/training-examples?ignore=weather', 'application/octet-stream', tfrecord);
    expect(uploaded.status).toBe(200);
    const report = uploaded.body;
    expect(report).toMatchObject({ identifier: 'prediction_id', trainingExamples: 31, withoutIdentifier: 0, duplicateIdentifiers: 0, pairs: 30 });
    expect(report.ignored).toEqual(['inclusion_probability', 'label', 'label_name', 'label_source', 'model_version', 'weather', 'weight']);
    const byFeature = Object.fromEntries(report.features.map((f: any) => [f.feature, f]));
    // minutes: the 15 FR runs differ (x.1 against its rounding); CH's are the same float32
    expect(byFeature.minutes).toMatchObject({
      trainingCount: 30,
      servingCount: 30,
      matchCount: 15,
      mismatchCount: 15,
      trainingOnly: 0,
      servingOnly: 0,
      diffCount: 15,
    });
    expect(byFeature.minutes.slices).toEqual([
      { slice: 'country=FR', pairs: 15, diffCount: 15, diffRate: 1 },
      { slice: 'country=CH', pairs: 15, diffCount: 0, diffRate: 0 },
    ]);
    expect(byFeature.shoe).toMatchObject({ trainingCount: 0, servingCount: 30, servingOnly: 30, diffCount: 30, diffRate: 1 });
    expect(byFeature.country).toMatchObject({ matchCount: 30, diffCount: 0 });
    expect(report.features.map((f: any) => f.feature)).toEqual(['shoe', 'minutes', 'country']);
    expect(report.samples[0]).toMatchObject({ id: served[0].id, mismatched: [], servingOnly: ['shoe'], trainingOnly: [] });
    expect(report.samples[1]).toMatchObject({ id: served[1].id, mismatched: ['minutes'], training: { minutes: [1] }, serving: { minutes: 1.1, shoe: 's1' } });

    // on the monitoring page, and alerted per feature and per slice
    expect((await app.request('GET', p.route(''), { token: admin })).body.skew.feature).toEqual(report);
    const raised = (await app.request('POST', p.route('/evaluate'), { token: admin })).body.raised.filter((a: any) => a.kind === 'skew');
    expect(raised.map((a: any) => `${a.feature} ${a.slice ?? '*'}`).sort()).toEqual([
      'minutes *',
      'minutes country=FR',
      'shoe *',
      'shoe country=CH',
      'shoe country=FR',
    ]);

    // JSON Lines work too; bad bodies are refused naming the body, and the report stays
    const jsonl = served
      .slice(0, 20)
      .map((s) => JSON.stringify({ prediction_id: s.id, country: s.input.country, minutes: s.input.minutes, shoe: s.input.shoe }))
      .join('\n');
    const fromJson = await p.put('/training-examples', 'application/octet-stream', jsonl);
    expect(fromJson.status).toBe(200);
    expect(fromJson.body).toMatchObject({ pairs: 20 });
    expect(fromJson.body.features.every((f: any) => f.diffCount === 0)).toBe(true);
    for (const [contentType, body] of [
      ['application/octet-stream', Buffer.from('not a tfrecord at all, not json either')],
      ['application/octet-stream', tfrecord.subarray(0, 100)],
      ['application/json', '{"examples": []}'],
    ] as const) {
      const refused = await p.put('/training-examples', contentType, body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'monitoring/invalid_training_examples', field: 'body' });
    }
    expect((await app.request('GET', p.route(''), { token: admin })).body.skew.feature.pairs).toBe(20);

    // a masked field leaves spans dropped (the default policy): its absence in training is no skew
    expect((await app.request('PATCH', `/api/v1/projects/${p.slug}`, { token: admin, body: { maskedFields: ['shoe'] } })).status).toBe(200);
    const masked = await p.put('/training-examples?ignore=weather', 'application/octet-stream', tfrecord);
    expect(masked.body.ignored).toEqual(expect.arrayContaining(['shoe', 'input_shoe']));
    expect(masked.body.features.map((f: any) => f.feature)).toEqual(['minutes', 'country']);
  });
});
