import { downloadName } from './download-name';

describe('downloadName', () => {
  it.each([
    ['Split-train/data_tfrecord-00000-of-00001.gz', 'spam-span-4-v1-train-data_tfrecord-00000-of-00001.gz'],
    ['Split-eval/data_tfrecord-00000-of-00001.gz', 'spam-span-4-v1-eval-data_tfrecord-00000-of-00001.gz'],
    ['Split-train/data_jsonl-00001-of-00002.jsonl', 'spam-span-4-v1-train-data_jsonl-00001-of-00002.jsonl'],
    ['statistics/Split-eval/FeatureStats.pb', 'spam-span-4-v1-statistics-eval-FeatureStats.pb'],
    ['schema.pbtxt', 'spam-span-4-v1-schema.pbtxt'],
    ['manifest.json', 'spam-span-4-v1-manifest.json'],
  ])('downloads %s as %s', (relative, name) => {
    expect(downloadName('spam', 4, 1, relative)).toBe(name);
  });

  it('never names the train and eval shards alike', () => {
    const shard = 'data_tfrecord-00000-of-00001.gz';
    expect(downloadName('spam', 1, 1, `Split-train/${shard}`)).not.toBe(downloadName('spam', 1, 1, `Split-eval/${shard}`));
  });

  it('keeps a header-safe name whatever the path holds', () => {
    expect(downloadName('spam', 1, 2, 'Split-train/a "b";c.gz')).toBe('spam-span-1-v2-train-a__b__c.gz');
  });
});
