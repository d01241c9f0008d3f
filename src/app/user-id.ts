// The tenant's user id as every channel service takes it.
import { DomainError } from '../domain/errors.ts';

/** A non-empty user id of at most 256 characters (INVALID_ARGUMENT otherwise). */
export const requireUserId = (userId: unknown): string => {
  if (typeof userId !== 'string' || userId.trim() === '') throw new DomainError('INVALID_ARGUMENT', 'userId is required');
  if (userId.length > 256) throw new DomainError('INVALID_ARGUMENT', `userId must be at most 256 characters, got ${userId.length}`);
  return userId;
};
