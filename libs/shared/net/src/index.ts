export * from './ip';
