// Node runs the TypeScript sources by stripping their types with a WebAssembly build of swc
// (amaro), which every thread that strips a module loads for itself: measured on an idle server,
// 154 MB resident with it on the main thread and both worker threads (the SQLite writer, the read
// models), 126 MB without. Node's module compile cache keeps each module's stripped source and V8
// code on disk, keyed by the file's path and content, so a later start strips nothing and loads no
// stripper; a changed file misses alone and is stripped again. Node reads NODE_COMPILE_CACHE when a
// thread starts, and worker threads take the environment of the process, so src/main.ts puts it
// in the environment it re-runs itself with (heap-flags.ts). docs/operations.md, "Memory".
import { enableCompileCache, flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Under the project's own node_modules (like other tools' caches): written by whoever installed
 * the dependencies, not a directory other users of the machine share (the system's temp dir). */
export const COMPILE_CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/securekey/compile', import.meta.url));

/** What to add to the environment so node uses the compile cache: nothing when the operator chose
 * (NODE_COMPILE_CACHE set to another directory, or NODE_DISABLE_COMPILE_CACHE). */
export const compileCacheEnv = (env: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  env.NODE_COMPILE_CACHE !== undefined || env.NODE_DISABLE_COMPILE_CACHE !== undefined ? {} : { NODE_COMPILE_CACHE: COMPILE_CACHE_DIR };

/** Where node could not be re-run with it (no process.execve): the cache for the modules this
 * thread loads from now on and for the worker threads it starts. */
export const useCompileCacheFromNow = () => {
  const { NODE_COMPILE_CACHE: dir } = compileCacheEnv(process.env);
  if (dir === undefined) return;
  enableCompileCache(dir);
  process.env.NODE_COMPILE_CACHE = dir;
};

/** Writes what this thread compiled so far (node writes it at exit, which a killed server never reaches). */
export const saveCompileCache = () => flushCompileCache();
