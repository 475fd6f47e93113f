export * from './database';
export * from './entities';
export * from './keyset';
export * from './logger';
export * from './migrations';
export * from './revocation-store';
export * from './secret-box';
export * from './transactions';
