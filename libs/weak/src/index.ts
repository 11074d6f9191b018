export * from './labeling-functions';
export * from './label-model';
export * from './analysis';
export * from './propagation';
