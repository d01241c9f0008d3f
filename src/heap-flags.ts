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
export const HEAP_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=25'] as const;

/** The admin CLI's (src/cli/main.ts): the young generation alone. A command lives for seconds or
 * minutes, and a replay's old generation grows in small steps: with --heap-growing-percent=25 a
 * 1M-event replay ran 76-77 full collections instead of 1-2 and took 10-15 % more CPU, for the
 * same peak RSS within 20 MB (145 vs 161-164 MB; 264-293 MB with neither flag). */
export const CLI_HEAP_FLAGS = ['--max-semi-space-size=16'] as const;

/** "--max_semi_space_size=8" → "--max-semi-space-size" (V8 takes either spelling). */
const nameOf = (arg: string) => arg.split('=')[0]!.replaceAll('_', '-');

/** The flags of HEAP_FLAGS whose name neither node's command line nor NODE_OPTIONS sets. */
export const missingHeapFlags = (execArgv: readonly string[], nodeOptions = '', flags: readonly string[] = HEAP_FLAGS): string[] => {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(nameOf));
  return flags.filter((f) => !given.has(nameOf(f)));
};

/** Replaces this process by node with the missing heap flags added to the same command line and
 * `addEnv` to its environment (process.execve: the same pid, environment and open descriptors, so
 * signals and a container's PID 1 are unaffected); nothing to add, nothing done. Call it before
 * anything else runs. Returns the flags it could not apply: none when they were all given already;
 * all missing ones where process.execve does not exist (Windows) or fails, and the server then
 * runs with V8's defaults. */
export const relaunchWithHeapFlags = (addEnv: Readonly<Record<string, string>> = {}, flags: readonly string[] = HEAP_FLAGS): string[] => {
  const missing = missingHeapFlags(process.execArgv, process.env.NODE_OPTIONS, flags);
  if ((missing.length === 0 && Object.keys(addEnv).length === 0) || typeof process.execve !== 'function') return missing;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], { ...process.env, ...addEnv });
  } catch {
    // e.g. the node binary cannot be executed again: go on as started
  }
  return missing;
};
