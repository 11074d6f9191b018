export * from './uncertainty';
export * from './p2-quantile';
export * from './window-threshold';
export * from './inclusion';
export * from './text';
export * from './vectors';
