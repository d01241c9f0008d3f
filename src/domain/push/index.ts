export * from './streams.ts';
export * from './devices.ts';
export * from './request.ts';
export * from './inbox.ts';
