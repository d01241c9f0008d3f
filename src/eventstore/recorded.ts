// The one place where the log's records (StoredEvent: a type string and JSON data) become typed
// events of the catalogue. Every event in the log was appended by a decider of this code base
// (handleCommand), whose event type fixes the shape of its data, so the type tag is the check;
// a type this version does not know (written by a newer one) is left out. Events are forever:
// if an event's shape ever changes, the upcast of the old shape goes here.
import { type DomainEvent, type DomainEventType, type EventOfType, isDomainEventType } from '../domain/events.ts';
import type { EventMetadata, StoredEvent } from './port.ts';

/** A catalogue event as the log recorded it: its position, stream, time and metadata. */
export type Recorded<E extends DomainEvent = DomainEvent> = E extends DomainEvent ? E & Omit<StoredEvent, 'type' | 'data'> : never;

const isRecorded = (e: StoredEvent): e is Recorded => isDomainEventType(e.type);

/** The record as a typed event, or undefined when its type is not in the catalogue. */
export const toRecorded = (e: StoredEvent): Recorded | undefined => (isRecorded(e) ? e : undefined);

/** Narrows a recorded event to the given types. */
export const isOfType = <T extends DomainEventType>(types: readonly T[], e: Recorded): e is Recorded<EventOfType<T>> => (types as readonly string[]).includes(e.type);

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** The tenant of an event: metadata first, then data, then the stream name (`category-tenant.rest`). */
export const tenantOf = (e: { data: object; metadata: EventMetadata; streamName: string }): string | null => {
  const fromMeta = str(e.metadata?.tenantId) ?? ('tenantId' in e.data ? str(e.data.tenantId) : null);
  if (fromMeta) return fromMeta;
  const dash = e.streamName.indexOf('-');
  const rest = dash >= 0 ? e.streamName.slice(dash + 1) : '';
  const dot = rest.indexOf('.');
  return str(dot >= 0 ? rest.slice(0, dot) : rest);
};

/** The tenant's own user id (webhooks call it externalUserId), when the event or its metadata carries it. */
export const userOf = (e: { data: object; metadata: EventMetadata }): string | null => ('userId' in e.data ? str(e.data.userId) : null) ?? str(e.metadata?.userId);
