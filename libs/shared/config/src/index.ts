export * from './config';
export * from './env';
export * from './federation-config';
export * from './listen';
