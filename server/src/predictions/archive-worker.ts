import { parentPort, workerData } from 'node:worker_threads';
import { ArchiveDays, type ArchiveReply, type ArchiveRequest } from './prediction-archive';

/*
 * A retention's archive on a worker thread (see prediction-archive.ts): the rows sent are written
 * to their day's Parquet file here, one request after another in the order they came, so the
 * shredding and the compression do not hold the server's thread.
 */

const port = parentPort!;
const days = new ArchiveDays((workerData as { directory: string }).directory);

async function handle(request: ArchiveRequest): Promise<ArchiveReply> {
  try {
    if ('rows' in request) return { closed: await days.add(request.rows) };
    if ('finish' in request) return { closed: await days.finish() };
    await days.close();
    return { closed: [] };
  } catch (error) {
    await days.close();
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

// a request's writes are awaited before the next one starts: two batches must not interleave in a file
let previous = Promise.resolve();
port.on('message', (request: ArchiveRequest) => {
  previous = previous.then(async () => port.postMessage(await handle(request)));
});
