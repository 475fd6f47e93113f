export * from './api-key.guard';
export * from './api-keys.module';
export * from './api-keys.service';
export * from './bootstrap.service';
export * from './ip-allowlist';
export * from './principal';
