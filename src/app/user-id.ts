// The tenant's user id as every channel service takes it.
import { DomainError } from '../domain/errors.ts';
import { MAX_LENGTH } from './input.ts';

/** A non-empty user id of at most 256 characters (INVALID_ARGUMENT otherwise). */
export const requireUserId = (userId: unknown): string => {
  if (typeof userId !== 'string' || userId.trim() === '') throw new DomainError('INVALID_ARGUMENT', 'userId is required');
  if (userId.length > MAX_LENGTH.userId) throw new DomainError('INVALID_ARGUMENT', `userId must be at most ${MAX_LENGTH.userId} characters, got ${userId.length}`);
  return userId;
};
