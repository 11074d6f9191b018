export * from './uncertainty';
export * from './p2-quantile';
export * from './inclusion';
export * from './text';
