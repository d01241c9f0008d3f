// The Node SDK as a customer gets it: `npm pack` in a copy of sdk/node (its prepack script compiles
// src/ with tsc), and the tarball installed into an app directory outside the repository.
import { execFile } from 'node:child_process';
import { cpSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Runs a command; resolves with its stdout, rejects with all its output when it fails. */
export const runCommand = (cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) =>
  new Promise<string>((done, reject) =>
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 180_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) failed: ${err.message}\n${stdout}\n${stderr}`)) : done(stdout),
    ),
  );

/** Packs sdk/node from a copy in `work` (its dev dependencies — tsc, @types/node — from ours); returns the tarball's path. */
export const packNodeSdk = async (work: string): Promise<string> => {
  const pkgDir = join(work, 'sdk-node');
  cpSync('sdk/node', pkgDir, { recursive: true, filter: (src) => !/\/(dist|node_modules)$/.test(src) });
  symlinkSync(resolve('node_modules'), join(pkgDir, 'node_modules'));
  const packed = JSON.parse(await runCommand('npm', ['pack', '--json', '--pack-destination', work], { cwd: pkgDir }));
  return join(work, packed[0].filename);
};

/** npm install the tarball into `app` (a directory with a package.json), offline and without scripts. */
export const installTarball = (app: string, tarball: string) => runCommand('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: app });
