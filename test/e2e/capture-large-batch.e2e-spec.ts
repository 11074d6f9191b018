import { startTestApp, TestApp } from '../helpers/test-app';
import { createApiKey, createProject, predictionBody } from '../factories';

// Bodies over 128 KiB are parsed a slice at a time: these check that nothing a client sees changes.
describe('capture: large JSON batches', () => {
  let app: TestApp;
  let slug: string;
  let projectId: string;
  let key: string;

  beforeAll(async () => {
    app = await startTestApp({ INGEST_MAX_BATCH: '5000', INGEST_MAX_BODY_MB: '8' });
    const admin = await app.login();
    const project = await createProject(app, admin);
    slug = project.slug;
    projectId = project.id;
    key = (await createApiKey(app, admin, slug, ['ingest'])).secret;
  });
  afterAll(() => app.close());

  const postRaw = (raw: string) => app.request('POST', `/api/v1/projects/${slug}/predictions/batch`, { raw, token: key });
  const stored = async (ids: string[]) =>
    app.sql(`SELECT id, input, scores, slice, metadata, model_name FROM predictions WHERE project_id = $1 AND id = ANY($2::uuid[]) ORDER BY id`, [
      projectId,
      ids,
    ]);
  const withoutRequestId = ({ requestId: _requestId, ...body }: Record<string, unknown>) => body;

  it('stores every item of a large batch as sent, tricky text included', async () => {
    const batch = Array.from({ length: 1_500 }, (_, i) =>
      predictionBody({
        model: { name: ` spam-filter\t${i % 3} `, version: '1.4.0' },
        input: { subject: `},{"id":"${i}"},{ été ☃ 🚀 C:\\temp\\"x"\n`, tokens: ['a', 'b'] },
        metadata: { spans: [{ start: 0 }, { start: i }] },
      }),
    );
    // pretty-printed: clients do not all send compact JSON
    const body = JSON.stringify(batch, null, 1);
    expect(Buffer.byteLength(body)).toBeGreaterThan(512 * 1024);
    const response = await postRaw(body);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 1_500, duplicates: 0 });
    const rows = await stored(batch.map((p) => p.id));
    const byId = new Map(batch.map((p) => [p.id, p]));
    expect(rows).toHaveLength(1_500);
    for (const row of rows) {
      const sent = byId.get(row.id)!;
      expect(row).toEqual({
        id: sent.id,
        input: sent.input,
        scores: sent.scores,
        slice: sent.slice,
        metadata: sent.metadata,
        model_name: sent.model.name.trim(),
      });
    }
  });

  it('names the index of a bad item in a large batch', async () => {
    const batch = Array.from({ length: 2_000 }, () => predictionBody());
    batch[1_234] = predictionBody({ scores: { ham: 2, spam: -1 } });
    const response = await postRaw(JSON.stringify(batch));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'predictions/batch_rejected', field: '1234.scores.ham' });
    expect(await stored(batch.map((p) => p.id))).toHaveLength(0);
  });

  it.each([
    ['NaN in one item', (json: string) => json.replace(/"ham":[0-9.]+/, '"ham":NaN')],
    ['a __proto__ key in one item', (json: string) => json.replace('"model":', '"__proto__":{"x":1},"model":')],
    ['a __proto__ key spelled with escapes in one item', (json: string) => json.replace('"model":', '"\\u005f_pr\\u006fto__":{"x":1},"model":')],
    ['a constructor.prototype key in one item', (json: string) => json.replace('"model":', '"constructor":{"prototype":{"x":1}},"model":')],
    ['a missing comma between two items', (json: string) => json.replace('},{"id"', '}{"id"')],
    ['a truncated body', (json: string) => json.slice(0, -10)],
  ])('refuses %s exactly as in a small body', async (_name, corrupt) => {
    const small = await postRaw(corrupt(JSON.stringify([predictionBody(), predictionBody()])));
    const large = Array.from({ length: 1_500 }, () => predictionBody());
    const middle = JSON.stringify(large.slice(0, 750));
    const response = await postRaw(`${middle.slice(0, -1)},${corrupt(JSON.stringify(large.slice(750))).slice(1)}`);
    expect(small.status).toBe(400);
    expect(response.status).toBe(small.status);
    expect(withoutRequestId(response.body)).toEqual(withoutRequestId(small.body));
    expect(await stored(large.map((p) => p.id))).toHaveLength(0);
  });
});
