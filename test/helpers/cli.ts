// The admin CLI exactly as an operator runs it: `npm run admin -- ...`, on the data directory
// (and master key) given in env.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

export type AdminRun = { code: number; stdout: string; stderr: string };

/** Runs `npm run admin -- ...args` with `env` over this process's environment. Never throws: the
 * exit code is part of the answer. */
export const runAdmin = (env: Record<string, string>, ...args: string[]): Promise<AdminRun> =>
  new Promise<AdminRun>((resolve) => {
    // Webhook receivers in tests listen on loopback: the operator switch for private targets.
    execFile('npm', ['run', 'admin', '--', ...args], { env: { ...process.env, SECUREKEY_WEBHOOK_ALLOW_PRIVATE: 'true', ...env }, cwd: process.cwd() }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

/** The one JSON object a run printed among npm's banner lines. */
export const jsonOf = (r: AdminRun) => {
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
  assert.equal(lines.length, 1, `one JSON object expected, got: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(lines[0]!);
};

/** A run that must succeed, and the JSON object it printed. */
export const adminJson = async (env: Record<string, string>, ...args: string[]) => {
  const r = await runAdmin(env, ...args);
  assert.equal(r.code, 0, `npm run admin -- ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return jsonOf(r);
};
