export * from './api-keys';
export * from './auth-webhooks';
export * from './grpc';
export * from './mqtt-edge-limits';
export * from './proto';
export * from './signing-keys';
export * from './usage';
export * from './certificates';
