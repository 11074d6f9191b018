import { parentPort, workerData } from 'node:worker_threads';
import { ValueTally, valuesOf } from './example-row';
import { ExportColumns } from './fixed-columns';
import { maskedPaths, maskInput, type Masking } from './masking';
import { parseSpanRow } from './span-rows';
import type { StatisticsWork, WorkerReply, WorkerRequest } from './span-statistics';
import { splitOf } from './split';
import { SplitStatistics } from './tfdv-artifacts';

/*
 * A span's statistics on a worker thread (see span-statistics.ts): each row's COPY line read
 * again as the export reads it, masked, its values worked out, and counted in order.
 */

const work = workerData as StatisticsWork;
const port = parentPort!;
const statistics = new SplitStatistics(new ExportColumns(work.questions, work.routingQuestion), work.features, { float32: work.float32 });
const masking: Masking = { policy: work.masking.policy, fields: work.masking.fields, key: Buffer.from(work.masking.key) };
const paths = maskedPaths(masking);
// the export's thread counts what could not be written; this one's tally is only for valuesOf
const tally = new ValueTally(work.features.length);

const reply = (message: WorkerReply) => port.postMessage(message);

port.on('message', (request: WorkerRequest) => {
  try {
    if ('lines' in request) {
      const lines = request.lines.split('\n');
      for (const line of lines) {
        const row = parseSpanRow(line);
        if (paths.length) maskInput(row.input, paths, masking);
        statistics.add(row, splitOf(row.bucket, work.trainPercent), valuesOf(row, work.features, tally));
      }
      reply({ counted: lines.length });
      return;
    }
    reply({ statistics: { train: statistics.result('train'), eval: statistics.result('eval'), summary: statistics.summary() } });
  } catch (error) {
    reply({ error: error instanceof Error ? error.message : String(error) });
  }
});
