import * as path from 'node:path';
import { Global, Module } from '@nestjs/common';
import type { S3Client } from '@aws-sdk/client-s3';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { LocalStore } from './local-store';
import { parseS3Url, type ObjectStore } from './object-store';
import { s3Client, S3Store } from './s3-store';

/** The stores of the process: spans (`EXPORT_ROOT`) and raw-prediction archives (`ARCHIVE_ROOT`). */
export interface Stores {
  exports: ObjectStore;
  archive: ObjectStore;
}

export const STORES = Symbol('STORES');

/** The stores a configuration names, sharing one S3 client when both are buckets. */
export function openStores(config: AppConfig): Stores {
  let client: S3Client | undefined;
  const open = (root: string, name: string): ObjectStore => {
    const s3 = parseS3Url(root);
    if (!s3) return new LocalStore(root);
    client ??= s3Client(config.s3);
    return new S3Store(root, client, s3.bucket, s3.prefix, path.join(config.dataDir, 'staging', name));
  };
  return { exports: open(config.exportRoot, 'exports'), archive: open(config.archiveRoot, 'archive') };
}

@Global()
@Module({
  providers: [{ provide: STORES, useFactory: openStores, inject: [APP_CONFIG] }],
  exports: [STORES],
})
export class StorageModule {}
