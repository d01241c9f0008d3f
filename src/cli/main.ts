// The admin CLI's entry point: `npm run admin -- <command>`, `node src/cli/main.ts <command>`.
// Like the server's (src/main.ts), it first re-runs itself with the V8 heap settings of
// heap-flags.ts and node's compile cache (compile-cache.ts), before the CLI's modules are loaded:
// a replay of 400k events peaked at 358 MB resident without them, 167 MB with them, and every
// command starts without stripping the TypeScript again. The commands are in admin.ts.
import { compileCacheEnv, useCompileCacheFromNow } from '../compile-cache.ts';
import { relaunchWithHeapFlags } from '../heap-flags.ts';

relaunchWithHeapFlags(compileCacheEnv(process.env));
useCompileCacheFromNow();
await import('./admin.ts');
