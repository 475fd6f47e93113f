export * from './types';
export * from './deny-list';
export * from './expiring-map';
export * from './fanout';
export * from './in-memory-revocation-bus';
export * from './publisher';
export * from './redis-revocation-bus';
export * from './stream-id';
