export * from './in-memory-directory.repository';
export * from './scim-corpus';
export * from './recording-deprovisioner';
