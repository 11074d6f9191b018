export * from './distance';
export * from './schema';
export * from './estimates';
export * from './statistics';
export * from './dataset-statistics';
export * from './kll';
export * from './tfdv';
