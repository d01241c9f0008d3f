// One read of the log for several runners of one thread (projections/thread/worker.ts: the node's
// read models and the shared webhook outbox). A runner catches up page by page from its lowest
// checkpoint (runtime.ts); two runners started together from the same position, with the same page
// size (a start-up on a log neither has seen: both at 0, both in bulk), ask for the same pages, one
// after the other, a page each per turn of the event loop. Each page is then read and parsed once:
// the store's reader keeps it for the other runners until each has taken it. Runners that do not
// ask for the same pages (other checkpoints or page sizes) read from the store as before; the pages
// kept for them are dropped, oldest first, beyond `maxPages`.
//
// Only full pages are kept: the events after a position, up to maxCount of them, never change once
// that many are committed; a shorter page (the head of the log) may grow.
import type { EventStore, StoredEvent } from '../src/eventstore/port.ts';

/** Pages kept at most (2,000 events each in bulk: a few MB). */
const MAX_PAGES = 4;

/** The store, with readAll's full pages shared by `readers` readers. The events are the same
 * objects for every reader: readers do not change them (runtime.ts, the read models). */
export const sharePages = (store: EventStore, o: { readers: number; maxPages?: number }): EventStore => {
  if (o.readers < 2) return store;
  const maxPages = o.maxPages ?? MAX_PAGES;
  const pages = new Map<string, { events: StoredEvent[]; left: number }>();
  return {
    ...store,
    readAll: async (opts = {}) => {
      const { fromPosition = 0, maxCount = -1 } = opts;
      if (maxCount <= 0) return store.readAll(opts);
      const key = `${fromPosition}/${maxCount}`;
      const kept = pages.get(key);
      if (kept) {
        if (--kept.left === 0) pages.delete(key);
        return kept.events;
      }
      const events = await store.readAll(opts);
      if (events.length === maxCount) {
        pages.set(key, { events, left: o.readers - 1 });
        for (const oldest of pages.keys()) {
          if (pages.size <= maxPages) break;
          pages.delete(oldest);
        }
      }
      return events;
    },
  };
};
