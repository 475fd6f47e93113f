export * from './config';
export * from './env';
export * from './injection';
export * from './listen';
