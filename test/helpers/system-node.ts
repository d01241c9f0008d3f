// The machine's own Node (not the Node 24 that npm scripts put first on PATH from node_modules):
// what a customer runs the published SDK and the examples with.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first `node` on PATH outside any node_modules, with its version; undefined if there is none. */
export const systemNode = (): { path: string; version: string } | undefined => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const path = join(dir, 'node');
    try {
      accessSync(path, constants.X_OK);
      return { path, version: execFileSync(path, ['--version'], { encoding: 'utf8' }).trim() };
    } catch {
      // not here
    }
  }
  return undefined;
};
