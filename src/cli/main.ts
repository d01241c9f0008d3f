// The admin CLI's entry point: `npm run admin -- <command>`, `node src/cli/main.ts <command>`.
// Like the server's (src/main.ts), it first re-runs itself with a small young generation
// (CLI_HEAP_FLAGS in heap-flags.ts) and node's compile cache (compile-cache.ts), before the CLI's
// modules are loaded: a replay of 1M events peaked at 264-293 MB resident without them, 145 MB
// with them, and every command starts without stripping the TypeScript again. The commands are
// in admin.ts.
import { compileCacheEnv, useCompileCacheFromNow } from '../compile-cache.ts';
import { CLI_HEAP_FLAGS, relaunchWithHeapFlags } from '../heap-flags.ts';

relaunchWithHeapFlags(compileCacheEnv(process.env), CLI_HEAP_FLAGS);
useCompileCacheFromNow();
await import('./admin.ts');
