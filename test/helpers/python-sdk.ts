// The Python SDK as a customer gets it: a wheel built from a copy of sdk/python with the standard
// setuptools backend (`pip wheel --no-build-isolation`: no package index is reachable here),
// installed into a fresh virtual environment outside the repository.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A python3 that can build a wheel and make a venv, or why there is none. */
export const wheelPython = (): { python: string } | { reason: string } => {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import setuptools.build_meta, wheel, pip, venv'], { encoding: 'utf8' });
    if (r.status === 0) return { python };
  }
  return { reason: 'no python3 with setuptools, wheel, pip and venv (Debian: apt-get install python3-setuptools python3-wheel python3-pip python3-venv)' };
};

const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<string>((resolve, reject) =>
    execFile(cmd, args, { cwd, timeout: 180_000, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );

/** Builds the wheel in `work` and installs it into `work`/venv; returns the wheel's file name and the venv's python. */
export const installPythonSdk = async (python: string, work: string): Promise<{ wheel: string; venvPython: string }> => {
  const src = join(work, 'sdk-python');
  cpSync('sdk/python', src, { recursive: true, filter: (p) => !/(\/build|\/dist|\.egg-info|__pycache__)$/.test(p) });
  const out = join(work, 'wheels');
  mkdirSync(out);
  await run(python, ['-m', 'pip', 'wheel', '--no-build-isolation', '--no-deps', '--no-index', '--wheel-dir', out, src], work);
  const [wheel] = readdirSync(out).filter((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`no wheel in ${out}`);
  await run(python, ['-m', 'venv', '--without-pip', join(work, 'venv')], work);
  const venvPython = join(work, 'venv', 'bin', 'python');
  await run(python, ['-m', 'pip', '--python', venvPython, 'install', '--no-index', '--no-deps', join(out, wheel)], work);
  return { wheel, venvPython };
};
