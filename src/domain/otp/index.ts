export * from './events.ts';
export * from './stream.ts';
export * from './decider.ts';
export * from './outcome.ts';
export * from './caps.ts';
