export * from './kappa';
export * from './krippendorff';
export * from './majority';
export * from './consensus';
export * from './dawid-skene';
export * from './rater-confusion';
