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
 * Issue 23: each split's FeatureStats.pb, decoded with protobufjs from tensorflow_metadata's own
 * statistics.proto (test/fixtures, verbatim: not the definitions the writer uses), holds the
 * figures computed here directly from the exported rows (the JSONL beside it), by TFDV's
 * definitions; schema.pbtxt holds what SchemaGen infers from the train split.
 */

const PUBLIC = publicTfmdType('DatasetFeatureStatisticsList');

type Value = number | string;

/** The smallest value whose cumulative count reaches q of them (the quantile the statistics state). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

describe('export: TFDV statistics and schema beside every span', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-export-tfdv-'));
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

  it('writes statistics/Split-*/FeatureStats.pb whose every figure is the exported rows, and nothing but data in the split folders', async () => {
    const created = await createProject(app, admin, {
      labels: [{ name: 'ham' }, { name: 'spam' }],
      routing: { explorationRate: 0 },
      feedbackRules: { rules: [{ eventType: 'click', label: 'ham', windowMinutes: 60 }] },
      export: { formats: ['tfrecord', 'jsonl'] },
    });
    const key = (await createApiKey(app, admin, created.slug, ['ingest'])).secret;
    const n = 400;
    const predictions = Array.from({ length: n }, (_, i) => ({
      id: randomUUID(),
      model: { name: 'runs', version: 'v1' },
      input: {
        minutes: i % 7 === 0 ? 0 : ((i * 37) % 101) / 10,
        hour: i % 24,
        country: ['CH', 'FR', 'DE', 'Zürich'][i % 4],
        // missing in a third of the examples, an empty list (absent in a tf.Example) in a sixth
        ...(i % 3 !== 0 && { tags: i % 6 === 1 ? [] : Array.from({ length: 1 + (i % 3) }, (_, k) => `t${(i + k) % 5}`) }),
      },
      scores: { ham: 0.6, spam: 0.4 },
    }));
    for (let i = 0; i < n; i += 200)
      expect(
        (await app.request('POST', `/api/v1/projects/${created.slug}/predictions/batch`, { token: key, body: predictions.slice(i, i + 200) })).status,
      ).toBe(200);
    const events = predictions.map((p) => ({ id: `fb-${p.id}`, predictionId: p.id, type: 'click' }));
    for (let i = 0; i < n; i += 200)
      expect((await app.request('POST', `/api/v1/projects/${created.slug}/feedback`, { token: key, body: events.slice(i, i + 200) })).status).toBe(201);
    const entity = (await app.app.get(ProjectsService).findBySlug(created.slug))!;
    const exported = (await app.app.get(ExportsService).exportNext(entity))!;
    expect(exported.rows).toBe(n);
    // ImportExampleGen's pattern Split-train/* matches data files only
    for (const split of ['train', 'eval'])
      expect(fs.readdirSync(path.join(exported.directory, `Split-${split}`)).every((name) => name.startsWith('data_'))).toBe(true);

    const statisticsFiles = exported.manifest.files.filter((f) => f.format === 'statistics');
    expect(statisticsFiles.map((f) => f.path).sort()).toEqual(['statistics/Split-eval/FeatureStats.pb', 'statistics/Split-train/FeatureStats.pb']);
    for (const file of statisticsFiles) {
      const rows = exported.manifest.files
        .filter((f) => f.format === 'jsonl' && f.split === file.split)
        .flatMap((f) => fs.readFileSync(path.join(exported.directory, f.path), 'utf8').split('\n').filter(Boolean))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(rows.length).toBe(exported.manifest.splits[file.split]);
      expect(file.rows).toBe(rows.length);

      const decoded = PUBLIC.toObject(PUBLIC.decode(fs.readFileSync(path.join(exported.directory, file.path))), { longs: Number, enums: String });
      expect(decoded.datasets).toHaveLength(1);
      const [dataset] = decoded.datasets;
      expect(dataset.num_examples).toBe(rows.length);
      const names = dataset.features.map((f: { path: { step: string[] } }) => f.path.step.join('.'));
      expect(names).toEqual([
        'prediction_id',
        'model_version',
        'label',
        'label_name',
        'label_source',
        'weight',
        'inclusion_probability',
        'country',
        'hour',
        'minutes',
        'tags',
      ]);

      for (const feature of dataset.features) {
        const name = feature.path.step[0] as string;
        // a feature's values in each example, as the tf.Example has them: missing when it has none
        const lists = rows.map((row) => {
          const v = row[name];
          if (v === undefined || v === null) return undefined;
          const list = (Array.isArray(v) ? v : [v]) as Value[];
          return list.length ? list : undefined;
        });
        const present = lists.filter((l): l is Value[] => l !== undefined);
        const counts = present.map((l) => l.length).sort((a, b) => a - b);
        const values = present.flat();
        const stats = feature.num_stats ?? feature.string_stats;
        const common = stats.common_stats;
        expect([name, common.num_non_missing ?? 0, common.num_missing ?? 0]).toEqual([name, present.length, rows.length - present.length]);
        expect([name, common.min_num_values ?? 0, common.max_num_values ?? 0, common.tot_num_values ?? 0]).toEqual([
          name,
          counts[0],
          counts.at(-1),
          values.length,
        ]);
        expect(common.avg_num_values).toBeCloseTo(values.length / present.length, 5);
        expect(common.num_values_histogram.type).toBe('QUANTILES');
        expect(common.num_values_histogram.buckets.map((b: { low_value?: number }) => b.low_value ?? 0)).toEqual(
          Array.from({ length: 10 }, (_, i) => quantile(counts, i / 10)),
        );

        if (feature.type === 'STRING') {
          const tally = new Map<string, number>();
          for (const v of values) tally.set(String(v), (tally.get(String(v)) ?? 0) + 1);
          const ranked = [...tally].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1));
          expect([name, feature.string_stats.unique]).toEqual([name, tally.size]);
          expect(feature.string_stats.top_values).toEqual(ranked.slice(0, 20).map(([value, frequency]) => ({ value, frequency })));
          expect(feature.string_stats.rank_histogram.buckets.map((b: { label: string; sample_count: number }) => [b.label, b.sample_count])).toEqual(
            ranked.slice(0, 1000),
          );
          expect(feature.string_stats.avg_length).toBeCloseTo(values.reduce((s: number, v) => s + utf8Length(String(v)), 0) / values.length, 5);
          continue;
        }
        // the span has TFRecord: a float is counted as the float32 its float_list holds, as TFDV reads the files
        const numbers = (values as number[]).map((v) => (feature.type === 'FLOAT' ? Math.fround(v) : v)).sort((a, b) => a - b);
        const mean = numbers.reduce((a, b) => a + b, 0) / numbers.length;
        const num = feature.num_stats;
        expect([name, num.min ?? 0, num.max ?? 0, num.num_zeros ?? 0]).toEqual([name, numbers[0], numbers.at(-1), numbers.filter((v) => v === 0).length]);
        expect(num.mean ?? 0).toBeCloseTo(mean, 9);
        expect(num.std_dev ?? 0).toBeCloseTo(Math.sqrt(numbers.reduce((s, v) => s + (v - mean) ** 2, 0) / numbers.length), 9);
        expect([name, num.median ?? 0]).toEqual([name, quantile(numbers, 0.5)]);
        const [standard, quantiles] = num.histograms;
        expect(standard.type ?? 'STANDARD').toBe('STANDARD');
        const lo = numbers[0];
        const hi = numbers.at(-1)!;
        const buckets = lo === hi ? 1 : 10;
        expect(standard.buckets).toHaveLength(buckets);
        standard.buckets.forEach((b: { low_value?: number; high_value?: number; sample_count?: number }, i: number) => {
          const low = b.low_value ?? 0;
          const high = b.high_value ?? 0;
          expect(low).toBeCloseTo(lo + ((hi - lo) * i) / buckets, 9);
          const inside = numbers.filter((v) => (i === 0 ? v >= low : v > low) && v <= high).length;
          expect([name, i, b.sample_count ?? 0]).toEqual([name, i, inside]);
        });
        expect(quantiles.type).toBe('QUANTILES');
        expect(quantiles.buckets.map((b: { low_value?: number }) => b.low_value ?? 0)).toEqual(Array.from({ length: 10 }, (_, i) => quantile(numbers, i / 10)));
        expect(quantiles.buckets.at(-1).high_value ?? 0).toBe(hi);
      }
    }

    // schema.pbtxt: SchemaGen's inference from the train split, read back as a Schema
    const text = fs.readFileSync(path.join(exported.directory, 'schema.pbtxt'), 'utf8');
    const { schema, skipped } = parseSchemaText(text);
    expect(skipped).toEqual([]);
    const byName = Object.fromEntries((schema.feature as Array<{ name: string }>).map((f) => [f.name, f]));
    expect(byName.label).toMatchObject({
      type: 'INT',
      int_domain: { min: '0', max: '1', is_categorical: true },
      presence: { min_fraction: 1, min_count: '1' },
    });
    expect(byName.hour).toMatchObject({ type: 'INT', shape: { dim: [{ size: '1' }] } });
    expect(byName.minutes).toMatchObject({ type: 'FLOAT', presence: { min_fraction: 1 } });
    // missing in some examples, one to three values in the others: a value count of at least one, no fixed shape
    expect(byName.tags).toMatchObject({ type: 'BYTES', presence: { min_count: '1' }, value_count: { min: '1' }, domain: 'tags' });
    expect(byName.tags.presence).not.toHaveProperty('min_fraction');
    expect(byName.country).toMatchObject({ type: 'BYTES', domain: 'country' });
    const domains = Object.fromEntries((schema.string_domain as Array<{ name: string; value: string[] }>).map((d) => [d.name, d.value]));
    expect(domains.country).toEqual(['CH', 'DE', 'FR', 'Zürich']);
    expect(domains.tags).toEqual(['t0', 't1', 't2', 't3', 't4']);
    // 400 distinct ids and no fewer model versions: prediction_id gets no domain, model_version one
    expect(byName.prediction_id).not.toHaveProperty('domain');
  });
});
