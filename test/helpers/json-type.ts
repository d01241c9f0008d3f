// Type-level helpers for pinning JSON shapes to the protobuf-es message types.
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

/** The proto3 JSON form of a protobuf-es message type (lowerCamelCase keys; Timestamp → RFC 3339 string). */
export type Json<M> = { [K in keyof Omit<M, '$typeName' | '$unknown'>]: JsonOf<M[K]> };
type JsonOf<V> =
  V extends { $typeName: 'google.protobuf.Timestamp' } ? string
  : V extends { $typeName: string } ? Json<V>
  : V extends JsonObject | JsonValue ? V
  : V extends readonly (infer E)[] ? JsonOf<E>[]
  : V extends bigint ? string
  : V extends Uint8Array ? string
  : V;

/** true when A and B are the same type (not merely assignable to each other). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
