// The user aggregate, one per (tenant, keyed hash of the tenant's user id): it records erasures.
// Its count of UserErased events is the user's generation; the user's stream key (the keyed hash
// in the names of their TOTP, passkey and push streams, and in metadata.userKey) depends on it,
// so that after an erasure the same external id starts from scratch in new streams. No personal
// data: the erased stream key is already in the old streams' names.
import { type Decider, type Message } from '../decider.ts';
import { DomainError } from '../errors.ts';

export type UserErased = Message<'UserErased', {
  /** Names this erasure (DELETE answers it, the user.erased webhook carries it): the only way to
   * tell which user a webhook is about, since the id itself is not kept. */
  erasureId: string;
  /** The stream key the user had until now: whose data key was destroyed and whose read-model rows go. */
  erasedUserKey: string;
  /** Erasures so far, this one included: the user's new generation. */
  generation: number;
  at: number;
}>;

export type UserEvent = UserErased;

/** generation: the one the caller found (and whose key it destroyed): a concurrent erasure that
 * got there first makes this one a CONFLICT instead of recording the wrong key. */
export type EraseUser = Message<'EraseUser', { erasureId: string; erasedUserKey: string; generation: number; now: number }>;

export type UserState = { generation: number };

/** userHash: keyring.hmac('user', userId), the stream key of generation 0. */
export const userStream = (tenantId: string, userHash: string) => `user-${tenantId}.${userHash}`;

/** The userHash in a user stream's name (userStream's inverse). */
export const userHashOfStream = (stream: string) => stream.slice(stream.lastIndexOf('.') + 1);

export const userDecider: Decider<EraseUser, UserEvent, UserState> = {
  initialState: () => ({ generation: 0 }),
  evolve: (state, event) => (event.type === 'UserErased' ? { generation: event.data.generation } : state),
  decide: ({ data: c }, state) => {
    if (c.generation !== state.generation) throw new DomainError('CONFLICT', 'this user was erased by another request meanwhile');
    return [{ type: 'UserErased', data: { erasureId: c.erasureId, erasedUserKey: c.erasedUserKey, generation: state.generation + 1, at: c.now } }];
  },
};
