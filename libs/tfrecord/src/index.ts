export {
  decodeExample,
  encodeExample,
  encodeExampleReference,
  prepareExample,
  writeExample,
  type ExampleFeatures,
  type FeatureValue,
  type PreparedExample,
} from './example';
export { decodeExampleListWithContext, encodeExampleListWithContext } from './example-list';
export { CorruptRecordError, frameRecord, maskCrc, maskedCrc32c, maskedCrc32cOfFew, unframeRecords, unmaskCrc, writeFramedRecord } from './framing';
export { readTfRecordFile, TfRecordWriter, type WrittenFile } from './files';
