export * from './access-token';
export * from './api-key';
export * from './ids';
export * from './random';
export * from './refresh-token';
export * from './ip-allowlist';
export * from './api-key-scopes';
