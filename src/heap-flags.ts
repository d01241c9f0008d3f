// The V8 heap settings the server runs with, in one place. V8 reads them only when it starts, so
// src/main.ts, which every way of starting the server goes through (npm start, the container's
// CMD, `node src/main.ts`), re-runs its own process with them when its command line lacks them.
//   --max-semi-space-size=16   the young generation is at most 2 × 16 MB. V8 sizes it from the
//                              machine's memory: 2 × 64 MB on a 24 GB machine, all of it resident
//                              once a busy server has filled it.
//   --heap-growing-percent=25  after a full collection the old generation may grow by 25 % of
//                              what survived before the next one. V8's own factor goes up to 4×
//                              when collections look cheap: 40 MB of live objects then let the
//                              old generation reach 150 MB of mostly garbage.
// An operator's own value of either, on node's command line or in NODE_OPTIONS, wins; 0 is V8's
// default. docs/operations.md, "Memory", has the measurements.
import { setFlagsFromString } from 'node:v8';

export const HEAP_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=25'] as const;

// The worker threads (the SQLite writer, the read models) each have a heap of their own, and the
// read models' thread filled 2 × 16 MB of young generation under load as well. They get 4 MB
// semi-spaces: V8 reads the flag when it makes a thread's heap, so main.ts sets it once the main
// thread's heap exists, before any worker thread starts (a Worker's resourceLimits would not do:
// the command line's flag overrides them).
export const WORKER_SEMI_SPACE_FLAG = '--max-semi-space-size=4';

/** "--max_semi_space_size=8" → "--max-semi-space-size" (V8 takes either spelling). */
const nameOf = (arg: string) => arg.split('=')[0]!.replaceAll('_', '-');

/** Whether the main thread runs with HEAP_FLAGS' semi-space size (an operator's own value on the
 * command line or in NODE_OPTIONS then holds for every thread). */
export const workerSemiSpaceApplies = (execArgv: readonly string[], nodeOptions = ''): boolean => {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => nameOf(a) === nameOf(HEAP_FLAGS[0]));
  return given.length === 1 && given[0] === HEAP_FLAGS[0];
};

/** The heaps of the worker threads started from now on get WORKER_SEMI_SPACE_FLAG's semi-spaces,
 * when workerSemiSpaceApplies; the main thread's heap keeps its own. */
export const useWorkerHeapFlags = (execArgv: readonly string[], nodeOptions?: string) => {
  if (workerSemiSpaceApplies(execArgv, nodeOptions)) setFlagsFromString(WORKER_SEMI_SPACE_FLAG);
};

/** The flags of HEAP_FLAGS whose name neither node's command line nor NODE_OPTIONS sets. */
export const missingHeapFlags = (execArgv: readonly string[], nodeOptions = ''): string[] => {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(nameOf));
  return HEAP_FLAGS.filter((f) => !given.has(nameOf(f)));
};

/** Replaces this process by node with the missing heap flags added to the same command line and
 * `addEnv` to its environment (process.execve: the same pid, environment and open descriptors, so
 * signals and a container's PID 1 are unaffected); nothing to add, nothing done. Call it before
 * anything else runs. Returns the flags it could not apply: none when they were all given already;
 * all missing ones where process.execve does not exist (Windows) or fails, and the server then
 * runs with V8's defaults. */
export const relaunchWithHeapFlags = (addEnv: Readonly<Record<string, string>> = {}): string[] => {
  const missing = missingHeapFlags(process.execArgv, process.env.NODE_OPTIONS);
  if ((missing.length === 0 && Object.keys(addEnv).length === 0) || typeof process.execve !== 'function') return missing;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], { ...process.env, ...addEnv });
  } catch {
    // e.g. the node binary cannot be executed again: go on as started
  }
  return missing;
};
