// node:sqlite errors that mean "the file cannot be reached, opened or written" (busy, I/O, full,
// read-only, corrupt, closed), for every SQLite file: the embedded event store and the read-model
// databases. Anything else is a bug.

// Primary result codes (errcode & 0xff): BUSY, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN,
// PROTOCOL, NOTADB. https://www.sqlite.org/rescode.html
const UNAVAILABLE = new Set([5, 7, 8, 10, 11, 13, 14, 15, 26]);

export type SqliteError = Error & { code?: string; errcode?: number; errstr?: string };

export const isSqliteUnavailable = (err: unknown): boolean => {
  const e = err as SqliteError;
  if (e?.code === 'ERR_INVALID_STATE') return true; // the connection is closed
  return e?.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' && UNAVAILABLE.has(e.errcode & 0xff);
};
