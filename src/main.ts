// The server's entry point: `npm start`, the container's CMD and `node src/main.ts` all run this
// file. It first makes sure the process runs with the V8 heap settings of heap-flags.ts and node's
// compile cache for the stripped TypeScript (compile-cache.ts): it re-runs the process when they
// are missing, before the server's modules are loaded. Then it starts the server (securekey.ts,
// the composition root) and stops it on SIGTERM or SIGINT.
import { compileCacheEnv, saveCompileCache, useCompileCacheFromNow } from './compile-cache.ts';
import type { Config } from './config.ts';
import { relaunchWithHeapFlags } from './heap-flags.ts';

if (import.meta.main) {
  const notApplied = relaunchWithHeapFlags(compileCacheEnv(process.env));
  useCompileCacheFromNow();
  const [{ loadConfig }, { startSecureKey }, { startFailure }] = await Promise.all([import('./config.ts'), import('./securekey.ts'), import('./startup.ts')]);
  let config: Config | undefined;
  try {
    config = loadConfig();
    const running = await startSecureKey(config);
    saveCompileCache();
    if (notApplied.length > 0) console.error(`SecureKey: running with V8's default heap settings (could not apply ${notApplied.join(' ')}; see docs/operations.md, Memory)`);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        running.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  } catch (err) {
    const failure = startFailure(err, config);
    if (!failure) throw err;
    console.error(failure);
    process.exit(2);
  }
}
