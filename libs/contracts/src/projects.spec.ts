import { isForbiddenWebhookAddress } from './common';
import { FeatureSchemaRequest } from './monitoring';
import { CreateProjectRequest, ExportSettings, Labels, RoutingPolicy, UpdateProjectRequest } from './projects';

const base = { slug: 'spam', name: 'Spam', taskType: 'single_label', labels: [{ name: 'ham' }, { name: 'spam' }] };

function firstIssuePath(result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } }): string {
  return result.error!.issues[0].path.map(String).join('.');
}

describe('project contracts', () => {
  it('fills every setting with a sane default', () => {
    const parsed = CreateProjectRequest.parse(base);
    expect(parsed).toMatchObject({
      instructions: '',
      overlap: 1,
      maskedFields: [],
      routing: { strategy: 'least_confidence', explorationRate: 0.01, budget: {}, contradictionConfidence: 0.8, dedupeWindowMinutes: 60, sliceBoosts: {} },
      feedbackRules: { rules: [] },
      export: { formats: ['tfrecord'], splits: { train: 80, eval: 20 }, sources: ['feedback', 'consensus', 'review', 'gold'] },
    });
  });

  it.each([
    [{ ...base, labels: [{ name: 'ham' }, { name: ' spam' }] }, 'labels.1.name'],
    [{ ...base, labels: [{ name: 'a', hotkey: 'F1' }, { name: 'b' }] }, 'labels.0.hotkey'],
    [{ ...base, overlap: 2.5 }, 'overlap'],
    [{ ...base, maskedFields: [''] }, 'maskedFields.0'],
    [{ ...base, routing: { sliceBoosts: { country: 2 } } }, 'routing.sliceBoosts.country'],
    [{ ...base, routing: { budget: { perHour: -1 } } }, 'routing.budget.perHour'],
    [{ ...base, feedbackRules: { rules: [], absence: { label: 'maybe', windowMinutes: 10 } } }, 'feedbackRules.absence.label'],
    [{ ...base, export: { sources: ['gossip'] } }, 'export.sources.0'],
  ])('rejects %j at %s', (input, path) => {
    expect(firstIssuePath(CreateProjectRequest.safeParse(input))).toBe(path);
  });

  it('accepts a complete, consistent project', () => {
    const result = CreateProjectRequest.safeParse({
      ...base,
      labels: [
        { name: 'ham', hotkey: 'h', description: 'wanted mail' },
        { name: 'spam', hotkey: 's' },
      ],
      routing: { strategy: 'margin', targetRate: 0.02, budget: { perHour: 50, perDay: 500 }, sliceBoosts: { 'country=FR': 2 } },
      feedbackRules: { rules: [{ eventType: 'marked_not_spam', label: 'ham', windowMinutes: 1440 }], absence: { label: 'ham', windowMinutes: 60 } },
      export: {
        formats: ['tfrecord', 'parquet'],
        features: [{ name: 'subject', type: 'bytes' }],
        splits: { train: 90, eval: 10 },
        minAgreement: 0.7,
        schedule: '0 * * * *',
      },
    });
    expect(result.success).toBe(true);
  });

  it('refuses an empty patch and unknown fields in a patch', () => {
    expect(UpdateProjectRequest.safeParse({}).success).toBe(false);
    expect(firstIssuePath(UpdateProjectRequest.safeParse({ slug: 'renamed' }))).toBe('');
  });

  it('keeps threshold and target rate exclusive, and splits summing to 100', () => {
    expect(RoutingPolicy.safeParse({ threshold: 0.3 }).success).toBe(true);
    expect(RoutingPolicy.safeParse({ threshold: 0.3, targetRate: 0.1 }).success).toBe(false);
    expect(ExportSettings.safeParse({ splits: { train: 50, eval: 50 } }).success).toBe(true);
    expect(ExportSettings.safeParse({ splits: { train: 50, eval: 49 } }).success).toBe(false);
  });

  it('refuses a webhook to a link-local, unspecified or multicast address, and takes loopback and private ones', () => {
    const webhook = (url: string) => ExportSettings.safeParse({ webhook: { url, secret: 'a-secret-of-16-chars' } });
    for (const url of ['https://hooks.example.com/backflow', 'http://127.0.0.1:8080/hook', 'http://10.0.0.5/hook', 'http://[::1]:9000/', 'http://192.168.1.2/'])
      expect([url, webhook(url).success]).toEqual([url, true]);
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/',
      'http://[::ffff:169.254.169.254]/',
      'http://0.0.0.0/',
      'http://224.0.0.1/',
      'http://2852039166/',
    ]) {
      const parsed = webhook(url);
      expect([url, firstIssuePath(parsed)]).toEqual([url, 'webhook.url']);
      expect(parsed.error?.issues[0].message).toContain('link-local');
    }
    // what a resolver gives back, checked again at delivery
    for (const address of ['169.254.169.254', 'fe80::1%eth0', '::ffff:169.254.169.254', '::', 'ff02::1'])
      expect([address, isForbiddenWebhookAddress(address)]).toEqual([address, true]);
    for (const address of ['127.0.0.1', '::1', '10.1.2.3', '2001:db8::1', '::ffff:10.0.0.1', 'hooks.example.com'])
      expect([address, isForbiddenWebhookAddress(address)]).toEqual([address, false]);
  });

  it('drops masked fields from exports unless the project says hash or keep', () => {
    expect(ExportSettings.parse({}).maskedFields).toBe('drop');
    expect(ExportSettings.parse({ maskedFields: 'hash' }).maskedFields).toBe('hash');
    expect(firstIssuePath(ExportSettings.safeParse({ maskedFields: 'rot13' }))).toBe('maskedFields');
  });

  it('needs two distinct labels', () => {
    expect(Labels.safeParse([{ name: 'only' }]).success).toBe(false);
    expect(Labels.safeParse([{ name: 'x' }, { name: 'x' }]).success).toBe(false);
  });

  it('masks a field once', () => {
    expect(firstIssuePath(CreateProjectRequest.safeParse({ ...base, maskedFields: ['email', 'phone', 'email'] }))).toBe('maskedFields.2');
  });

  it('declares each export feature once (one column, one schema feature per name)', () => {
    const twice = ExportSettings.safeParse({
      features: [
        { name: 'x', type: 'int' },
        { name: 'y', type: 'int' },
        { name: 'x', type: 'float' },
      ],
    });
    expect(twice.success).toBe(false);
    expect(firstIssuePath(twice)).toBe('features.2.name');
    // and a monitoring schema each feature once
    const schema = FeatureSchemaRequest.safeParse({
      features: [
        { name: 'body_length', type: 'string' },
        { name: 'body_length', type: 'int', required: true },
      ],
    });
    expect(firstIssuePath(schema)).toBe('features.1.name');
  });
});
