export * from './block';
export * from './ip';
export * from './url';
