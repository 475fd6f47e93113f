export * from './key-source';
export * from './token-authenticator';
