/**
 * The name a file of a span is downloaded under: the project, span and version, then the file's
 * path in the version with its folders kept (`Split-train/data_tfrecord-00000-of-00001.gz` →
 * `spam-span-4-v1-train-data_tfrecord-00000-of-00001.gz`), so that two splits' shards, or two
 * spans' files, never arrive under one name. A character a file name should not hold becomes `_`.
 */
export function downloadName(slug: string, span: number, version: number, relative: string): string {
  const path = relative
    .split('/')
    .map((part) => part.replace(/^Split-/, ''))
    .join('-');
  return `${slug}-span-${span}-v${version}-${path}`.replace(/[^A-Za-z0-9._-]/g, '_');
}
