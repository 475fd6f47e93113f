export * from './config';
export * from './deadline-config';
export * from './env';
export * from './injection';
export * from './listen';
