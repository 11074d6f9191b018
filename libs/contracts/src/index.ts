export * from './common';
export * from './auth';
export * from './projects';
export * from './ingest';
export * from './routing';
export * from './labeling';
export * from './realtime';
export * from './exports';
