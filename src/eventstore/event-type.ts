// One rule for event types, applied by every event store adapter before anything is written.
// Types starting with `$` belong to KurrentDB's system events ($metadata, $>, $statsCollected…):
// its adapter filters them out of reads and subscriptions, so such an event would be written and
// then never seen there, while SQLite would show it. Refusing them in both keeps the stores alike.

/** Throws TypeError unless `type` is a non-empty string that does not start with `$`. */
export const checkEventType = (type: unknown): void => {
  if (typeof type !== 'string' || type === '') throw new TypeError('an event needs a non-empty type');
  if (type.startsWith('$')) throw new TypeError(`event type ${JSON.stringify(type.slice(0, 40))} starts with "$", which is reserved for the event store's system events`);
};
