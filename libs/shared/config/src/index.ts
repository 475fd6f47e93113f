export * from './config';
export * from './env';
export * from './injection';
export * from './federation-config';
export * from './listen';
export * from './auth-webhooks';
export * from './audit-config';
