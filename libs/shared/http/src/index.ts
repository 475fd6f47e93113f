export * from './app';
export * from './errors';
export * from './health';
export * from './openapi';
export * from './problem';
export * from './problem.filter';
export { TokenBucketLimiter } from '@signet/rate-limit';
export * from './validation';
export * from './pagination-problems';
