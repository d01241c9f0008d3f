// SQLite errors that mean "the file cannot be reached, opened or written" become
// StoreUnavailableError (the api layer answers 503); anything else is a bug and passes through.
import { isSqliteUnavailable, type SqliteError } from '../../sqlite/errors.ts';
import { StoreUnavailableError } from '../port.ts';

export const isUnavailable = (err: unknown): boolean => err instanceof StoreUnavailableError || isSqliteUnavailable(err);

export const toStoreError = (err: unknown): unknown => {
  if (err instanceof StoreUnavailableError || !isUnavailable(err)) return err;
  const e = err as SqliteError;
  return new StoreUnavailableError(`event store unavailable: ${e.errstr ?? e.message}`, { cause: err });
};
