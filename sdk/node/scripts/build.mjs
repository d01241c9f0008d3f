// Builds dist/ (run by `npm run build` and by `prepack`, so `npm pack` and `npm publish` ship it):
// ES modules + .d.ts in dist/esm, CommonJS + .d.ts in dist/cjs, both compiled by tsc from src/.
// Plain JavaScript so that it runs on any supported Node without a TypeScript loader.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const tsc = (project) => {
  const r = spawnSync('tsc', ['-p', project], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

rmSync('dist', { recursive: true, force: true });
tsc('tsconfig.build.json');
tsc('tsconfig.cjs.json');
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');

// tsc rewrites "./x.ts" to "./x.js" in the JavaScript it emits, not in declaration files: do it there.
for (const dir of ['dist/esm', 'dist/cjs']) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.d.ts'))) {
    const path = join(dir, file);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/(from\s+['"]\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1.js$2'));
  }
}
