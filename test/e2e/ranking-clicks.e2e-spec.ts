import { createApiKey, createProject } from '../factories';
import { examination, recommenderTraffic } from '../helpers/recommender-traffic';
import { startTestApp, TestApp } from '../helpers/test-app';

// A recommender's traffic with a known click model: the examination probability at position k
// is 1 / k^0.8 and an item's attraction its own; the model orders by a noisy view of the
// attraction, so raw click-through per position mixes position and relevance. One cohort's
// taste shifts on day 20 (its attractions halve): a sudden drop; the other stays as it was.
const POSITIONS = 10;
const DAYS = 28;
const LISTS_PER_DAY = 60;
const SHIFT_DAY = 20;

describe('ranking clicks: examination per position from the traffic, click-through per slice, sudden drops', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await app.login();
  });
  afterAll(() => app.close());

  it('recovers the examination curve within its tolerance and calls the shifted cohort’s drop sudden, the steady one none', async () => {
    const project = await createProject(app, admin, {
      taskType: undefined,
      labels: undefined,
      questions: [{ name: 'runs', kind: 'ranking', grades: [0, 1, 2].map((value) => ({ value, name: `g${value}` })), maxItems: POSITIONS }],
      // nothing routed for uncertainty: the test is about clicks
      routing: { strategy: 'margin', threshold: 1, explorationRate: 0, dedupeWindowMinutes: 0, budget: { perDay: 0 } },
      feedbackRules: { rules: [{ eventType: 'click', grade: 1, windowMinutes: 60 }] },
    });
    const key = (await createApiKey(app, admin, project.slug, ['ingest'])).secret;
    const now = Date.now();
    const { predictions, events } = recommenderTraffic({ days: DAYS, listsPerDay: LISTS_PER_DAY, positions: POSITIONS, shiftDay: SHIFT_DAY, now });
    for (let i = 0; i < predictions.length; i += 1_000) {
      const reply = await app.request('POST', `/api/v1/projects/${project.slug}/predictions/batch`, { token: key, body: predictions.slice(i, i + 1_000) });
      expect(reply.status).toBe(200);
    }
    for (let i = 0; i < events.length; i += 5_000) {
      const reply = await app.request('POST', `/api/v1/projects/${project.slug}/feedback`, { token: key, body: events.slice(i, i + 5_000) });
      expect([reply.status, reply.body.accepted]).toEqual([201, Math.min(5_000, events.length - i)]);
    }

    const reply = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring/clicks?days=${DAYS + 1}`, { token: admin });
    expect(reply.status).toBe(200);
    const report = reply.body;
    expect(report).toMatchObject({
      question: 'runs',
      clickTypes: ['click'],
      lists: DAYS * 2 * LISTS_PER_DAY,
      impressions: DAYS * 2 * LISTS_PER_DAY * POSITIONS,
      clicks: events.length,
    });
    // the raw click-through falls faster than examination (the model puts the attractive runs first); the estimate corrects it
    const estimated = report.propensity.positions as Array<{ position: number; value: number; low: number; high: number }>;
    expect(estimated.map((p) => p.position)).toEqual(Array.from({ length: POSITIONS }, (_, i) => i + 1));
    const errors = estimated.map((p) => Math.abs(p.value - examination(p.position)));
    console.log(
      `examination by position, estimated (true): ${estimated.map((p) => `${p.position}: ${p.value.toFixed(3)} (${examination(p.position).toFixed(3)})`).join(', ')}; ` +
        `raw click-through relative to position 1 at ${POSITIONS}: ${(report.byPosition[POSITIONS - 1].ctr / report.byPosition[0].ctr).toFixed(3)}`,
    );
    expect(Math.max(...errors)).toBeLessThan(0.08);
    const raw = report.byPosition as Array<{ position: number; ctr: number }>;
    const naive = raw.map((p) => p.ctr / raw[0].ctr);
    expect(naive[POSITIONS - 1]).toBeLessThan(examination(POSITIONS) - 0.02);
    // within its interval at most positions
    expect(estimated.filter((p) => p.low <= examination(p.position) && examination(p.position) <= p.high).length).toBeGreaterThanOrEqual(POSITIONS - 2);

    const slice = (name: string) => report.bySlice.find((s: { slice: string }) => s.slice === name);
    expect(slice('cohort=new').degradation.kind).toBe('sudden');
    const changeDay = (Date.parse(slice('cohort=new').degradation.changeAt) - (now - (DAYS + 1) * 24 * 3_600_000)) / (24 * 3_600_000) - 1;
    expect(Math.abs(changeDay - SHIFT_DAY)).toBeLessThanOrEqual(2);
    expect(slice('cohort=old').degradation.kind).toBe('none');
    expect(report.byModelVersion.map((v: { modelVersion: string }) => v.modelVersion)).toEqual(['1', '2']);

    // judged: the shifted cohort raises a click-through alert, which boosts its routing; the steady one raises none
    const evaluated = await app.request('POST', `/api/v1/projects/${project.slug}/monitoring/evaluate`, { token: admin });
    expect(evaluated.status).toBe(200);
    const ctr = evaluated.body.raised.filter((a: { kind: string }) => a.kind === 'ctr');
    expect(ctr.map((a: { slice: string | null }) => a.slice)).toContain('cohort=new');
    expect(ctr.map((a: { slice: string | null }) => a.slice)).not.toContain('cohort=old');
    const alert = ctr.find((a: { slice: string | null }) => a.slice === 'cohort=new');
    expect(alert.message).toMatch(/^click-through of "runs" for cohort=new fell suddenly/);
    expect(alert.value).toBeLessThan(alert.baseline * 0.8);
    const monitoring = await app.request('GET', `/api/v1/projects/${project.slug}/monitoring`, { token: admin });
    expect(monitoring.body.boosts.map((b: { slice: string }) => b.slice)).toContain('cohort=new');
    // judged again: the open alert is not raised twice
    const again = await app.request('POST', `/api/v1/projects/${project.slug}/monitoring/evaluate`, { token: admin });
    expect(again.body.raised.filter((a: { kind: string }) => a.kind === 'ctr')).toEqual([]);

    const other = await createProject(app, admin, {});
    const refused = await app.request('GET', `/api/v1/projects/${other.slug}/monitoring/clicks`, { token: admin });
    expect([refused.status, refused.body.code, refused.body.field]).toEqual([409, 'monitoring/not_a_ranking', 'routingQuestion']);
  });
});
