export * from './distance';
export * from './schema';
export * from './estimates';
export * from './statistics';
