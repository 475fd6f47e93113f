export * from './injection';
export * from './logger';
export * from './metrics';
export * from './nest-logger';
export * from './pretty';
