// SQLite errors that mean "the file cannot be reached, opened or written" become
// StoreUnavailableError (the api layer answers 503); anything else is a bug and passes through.
import { StoreUnavailableError } from '../port.ts';

// Primary result codes (errcode & 0xff): BUSY, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN,
// PROTOCOL, NOTADB. https://www.sqlite.org/rescode.html
const UNAVAILABLE = new Set([5, 7, 8, 10, 11, 13, 14, 15, 26]);

type SqliteError = Error & { code?: string; errcode?: number; errstr?: string };

export const isUnavailable = (err: unknown): boolean => {
  if (err instanceof StoreUnavailableError) return true;
  const e = err as SqliteError;
  if (e?.code === 'ERR_INVALID_STATE') return true; // the connection is closed
  return e?.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' && UNAVAILABLE.has(e.errcode & 0xff);
};

export const toStoreError = (err: unknown): unknown => {
  if (err instanceof StoreUnavailableError || !isUnavailable(err)) return err;
  const e = err as SqliteError;
  return new StoreUnavailableError(`event store unavailable: ${e.errstr ?? e.message}`, { cause: err });
};
