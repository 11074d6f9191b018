export { decodeExample, encodeExample, type ExampleFeatures, type FeatureValue } from './example';
export { CorruptRecordError, frameRecord, maskCrc, maskedCrc32c, unframeRecords, unmaskCrc } from './framing';
export { readTfRecordFile, TfRecordWriter, type WrittenFile } from './files';
