export * from './key-source';
export * from './token-authenticator';
export * from './key-authenticator';
export * from './revocation-subscriber';
export * from './chain';
export * from './webhook-step';
export * from './certificate-step';
export * from './auth-config';
