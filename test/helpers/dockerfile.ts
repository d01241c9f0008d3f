// The repository's Dockerfile read as data, so that tests run exactly what the image runs
// (CMD, HEALTHCHECK, ENV) and check how it is built.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

export type Instruction = { op: string; args: string };
export type Stage = { from: string; name?: string; instructions: Instruction[] };

/** Instructions with continuation lines joined and comments dropped. */
export const parseDockerfile = (text: string): Stage[] => {
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (op!.toUpperCase() === 'FROM') {
      const [from, as, name] = args!.split(/\s+/);
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      if (!stages.length) throw new Error(`Dockerfile: ${op} before FROM`);
      stages.at(-1)!.instructions.push({ op: op!.toUpperCase(), args: args!.replace(/\s+/g, ' ') });
    }
  }
  return stages;
};

/** JSON exec form (["node", "src/main.ts"]) or undefined for the shell form. */
export const execForm = (args: string): string[] | undefined => {
  if (!args.startsWith('[')) return undefined;
  const v: unknown = JSON.parse(args);
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
};

/** ENV KEY=value [KEY=value ...] (values without spaces or quotes, as ours are). */
const envOf = (stage: Stage): Record<string, string> =>
  Object.fromEntries(stage.instructions.filter((i) => i.op === 'ENV').flatMap((i) => i.args.split(' ').map((kv) => kv.split('=') as [string, string])));

export const readDockerfile = (path = 'Dockerfile') => {
  const stages = parseDockerfile(readFileSync(path, 'utf8'));
  const final = stages.at(-1)!;
  const one = (op: string) => final.instructions.filter((i) => i.op === op).at(-1)?.args ?? '';
  const cmd = execForm(one('CMD'));
  const healthcheck = execForm(one('HEALTHCHECK').replace(/^(--\S+ )*CMD /, ''));
  if (!cmd || !healthcheck) throw new Error('Dockerfile: CMD and HEALTHCHECK must use the exec form');
  return { stages, final, env: envOf(final), cmd, healthcheck, one };
};

/** A TCP port nothing listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** Runs argv (found on PATH, as in the image) and resolves with its exit code. */
export const runFor = (argv: string[], env: NodeJS.ProcessEnv, timeout = 30_000) =>
  new Promise<number>((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env, timeout }, (err) => resolve(err ? Number((err as { code?: unknown }).code) || 1 : 0));
  });
