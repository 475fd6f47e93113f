export * from './address-guard';
export * from './auth-webhooks.edge-handlers';
export * from './auth-webhooks.module';
export * from './errors';
export * from './options';
export * from './org-changes';
export * from './signature';
export * from './webhook-client';
