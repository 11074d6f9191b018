// A landed span read back as training rows: every tf.Example of its GZIP TFRecord files, through libs/tfrecord.
import { decodeExample, readTfRecordFile } from '@backflow/tfrecord';

const text = new TextDecoder();

export function bytesFeature(example, name) {
  const feature = example[name];
  if (!feature || feature.kind !== 'bytes' || feature.values.length === 0) return '';
  const value = feature.values[0];
  return typeof value === 'string' ? value : text.decode(value);
}

/**
 * A number feature's first value, or undefined: an int64 as a number, a float (a float32 on the wire) as the decimal
 * of at most 7 significant digits it was written from (21.6, not 21.600000381469727).
 */
export function numberFeature(example, name) {
  const feature = example[name];
  if (!feature || feature.values.length === 0) return undefined;
  if (feature.kind === 'int64') return Number(feature.values[0]);
  return feature.kind === 'float' ? Number(feature.values[0].toPrecision(7)) : undefined;
}

/** One exported example as the trainer takes it: the email's fields, its label and where the label came from. */
export function trainingRow(example) {
  return {
    subject: bytesFeature(example, 'subject'),
    sender: bytesFeature(example, 'sender'),
    body: bytesFeature(example, 'body'),
    format: bytesFeature(example, 'format'),
    label: bytesFeature(example, 'label_name'),
    labelSource: bytesFeature(example, 'label_source'),
    predictionId: bytesFeature(example, 'prediction_id'),
  };
}

/** Every training row of the given `.gz` TFRecord files (each record's checksums checked by the reader), made by `toRow`. */
export async function readSpanRows(paths, toRow = trainingRow) {
  const rows = [];
  for (const path of paths) {
    for await (const record of readTfRecordFile(path)) rows.push(toRow(decodeExample(record)));
  }
  return rows;
}
