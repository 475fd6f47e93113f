export * from './block';
export * from './ip';
