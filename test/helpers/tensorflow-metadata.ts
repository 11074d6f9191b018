import * as path from 'node:path';
import * as protobuf from 'protobufjs';

/**
 * A message of tensorflow_metadata as its own public definitions have it (test/fixtures, verbatim),
 * read by protobufjs: what the tests decode Backflow's statistics and anomalies with, never the
 * definitions Backflow writes them with (libs/tfmd/src/definitions.ts).
 */
export const publicTfmdType = (() => {
  const root = new protobuf.Root();
  const fixtures = path.join(__dirname, '..', 'fixtures');
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(fixtures, target));
  root.loadSync(['tensorflow_metadata/proto/v0/statistics.proto', 'tensorflow_metadata/proto/v0/anomalies.proto'], { keepCase: true });
  root.resolveAll();
  return (name: 'DatasetFeatureStatisticsList' | 'Anomalies'): protobuf.Type => root.lookupType(`tensorflow.metadata.v0.${name}`);
})();
