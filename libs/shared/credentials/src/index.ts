export * from './access-token';
export * from './api-key';
export * from './ids';
export * from './random';
export * from './refresh-token';
