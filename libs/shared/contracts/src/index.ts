export * from './proto';
export * from './signing-keys';
