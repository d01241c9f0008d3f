// What this server writes is for its own user only: the data directory is 0700 and its database
// files 0600 (SQLite creates a database's -wal and -shm files with the database file's mode, so a
// file created 0600 keeps them private too). Existing files and directories are tightened at start.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Creates `dir` (mode 0700) or tightens it to 0700. */
export const privateDir = (dir: string) => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
};

/** Makes sure the SQLite database at `path` exists with mode 0600, and so do its -wal and -shm
 * files when there are some. Its directory is created (0700) when missing, not changed otherwise.
 * An existing file is never opened: closing any descriptor of a file drops every POSIX lock this
 * process holds on it, and the server's threads open the same files, each holding SQLite's locks. */
export const privateDbFile = (path: string) => {
  if (path === ':memory:') return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600)); // a file created just now: no connection holds it
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
};
