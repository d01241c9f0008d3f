// The container image, checked without a Docker engine (none runs here): the Dockerfile's rules
// (multi-stage, Node 24 slim, runtime dependencies only, non-root, exec-form CMD, HEALTHCHECK,
// data volume), its build stage's generation step run for real in a scratch copy of the build
// context, the import graph of what the image runs (only files it copies, only runtime
// dependencies), and docker-compose.yml. The start command itself, HEALTHCHECK and SIGTERM are
// run in test/server-lifecycle.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import { execForm, readDockerfile } from './helpers/dockerfile.ts';

const image = readDockerfile();
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const runs = (stage: { instructions: { op: string; args: string }[] }) => stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);

/** .dockerignore as Docker reads it: patterns in order, the last match wins, `!` re-includes. */
const ignored = (path: string): boolean => {
  const patterns = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const parts = path.split('/');
  let out = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const pattern = negate ? p.slice(1) : p;
    const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '$');
    // A pattern matches the path or one of its parent folders.
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) out = !negate;
  }
  return out;
};

/** Files a stage copies from the build context (COPY without --from): [sources, destination]. */
const contextCopies = (stage: { instructions: { op: string; args: string }[] }) =>
  stage.instructions
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .map((i) => {
      const words = i.args.split(' ');
      return { sources: words.slice(0, -1), dest: words.at(-1)! };
    });

describe('Dockerfile', () => {
  test('multi-stage on Node 24 slim; the final stage takes node_modules from a stage that ran npm ci --omit=dev', () => {
    assert.ok(image.stages.length >= 2, 'a build stage and a runtime stage');
    for (const s of image.stages) assert.match(s.from, /^node:24(\.\d+)*-[a-z]+-slim$|^node:24(\.\d+)*-slim$/, s.from);
    const copy = image.final.instructions.find((i) => i.op === 'COPY' && / \/app\/node_modules /.test(i.args + ' '));
    const from = /^--from=(\S+)/.exec(copy?.args ?? '')?.[1];
    const stage = image.stages.find((s) => s.name === from);
    assert.ok(stage, `node_modules comes from a named stage (${copy?.args})`);
    assert.ok(runs(stage).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'that stage installs the runtime dependencies only');
    assert.deepEqual(runs(image.final).filter((r) => /\bnpm (ci|install)\b/.test(r)), [], 'nothing is installed in the runtime stage');
  });

  test('runs as a non-root user, node src/main.ts in exec form, HEALTHCHECK on /healthz, the data directory a volume', () => {
    const user = image.one('USER');
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
    assert.deepEqual(image.cmd, ['node', 'src/main.ts']);
    assert.ok(image.healthcheck.join(' ').includes('/healthz'), image.healthcheck.join(' '));
    assert.ok(image.env.SECUREKEY_DATA_DIR, 'ENV SECUREKEY_DATA_DIR');
    assert.deepEqual(execForm(image.one('VOLUME')), [image.env.SECUREKEY_DATA_DIR]);
    assert.ok(runs(image.final).some((r) => r.includes(`chown ${user}`) && r.includes(image.env.SECUREKEY_DATA_DIR!)), 'the data directory belongs to that user');
  });

  test('every file copied from the build context exists and passes .dockerignore; secrets, data and node_modules do not', () => {
    for (const stage of image.stages) {
      for (const { sources } of contextCopies(stage)) {
        for (const src of sources) {
          assert.ok(existsSync(src), `${src} exists`);
          assert.equal(ignored(src), false, `${src} is in the build context`);
        }
      }
    }
    for (const path of ['node_modules', 'data', '.env', 'src/gen', 'test', '.git', 'sdk/node/dist', 'master.key']) assert.equal(ignored(path), true, `${path} stays out`);
  });

  test('the build stage generates src/gen from exactly the files it copies (run in a scratch copy of the context)', () => {
    const stage = image.stages[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'securekey-image-build-'));
    try {
      for (const { sources, dest } of contextCopies(stage)) {
        for (const src of sources) cpSync(src, dest.endsWith('/') || sources.length > 1 ? join(dir, dest, src) : join(dir, dest), { recursive: true });
      }
      symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules')); // stands in for `npm ci` (no registry in tests)
      const steps = runs(stage).filter((r) => !/^npm ci\b/.test(r));
      assert.ok(steps.length > 0);
      for (const step of steps) {
        const r = spawnSync('sh', ['-c', step], { cwd: dir, encoding: 'utf8' });
        assert.equal(r.status, 0, `RUN ${step}\n${r.stdout}\n${r.stderr}`);
      }
      const copied = image.final.instructions.filter((i) => i.op === 'COPY' && i.args.startsWith(`--from=${stage.name} /app/src/gen`));
      assert.equal(copied.length, 1, 'the runtime stage takes src/gen from it');
      assert.ok(existsSync(join(dir, 'src/gen/securekey/v1/otp_pb.js')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('what the image runs (server and admin CLI) imports only files it copies and runtime dependencies', () => {
    const copied = contextCopies(image.final).flatMap((c) => c.sources).concat('src/gen');
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      assert.ok(copied.some((c) => file === c || file.startsWith(c + '/')), `${file} is in the image`);
      const text = readFileSync(file, 'utf8');
      // Static imports and re-exports that stay at run time (import type / export type are erased), and dynamic imports.
      const specifiers = [
        ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
        ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
        ...text.matchAll(/\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1]!);
      for (const spec of specifiers) {
        if (spec.startsWith('.')) visit(normalize(join(dirname(file), spec)));
        else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    };
    visit('src/main.ts');
    visit('src/cli/main.ts');
    assert.ok(seen.size > 50, `followed ${seen.size} files`);
    for (const p of packages) assert.ok(pkg.dependencies[p], `${p} is a runtime dependency (imported by what the image runs)`);
  });
});

describe('docker-compose.yml', () => {
  // Parsed with PyYAML when the machine's python3 has it (no YAML parser among our dependencies).
  const parsed = spawnSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open("docker-compose.yml"))))'], { encoding: 'utf8' });
  const reason = parsed.status === 0 ? undefined : `python3 with PyYAML is not available to parse YAML here (${(parsed.stderr || parsed.error?.message || '').trim().split('\n').at(-1)})`;

  test('builds this image and runs it with KurrentDB: no npm at start, no bind-mounted sources, the data volume, a stop grace above the shutdown grace', { skip: reason }, () => {
    const compose = JSON.parse(parsed.stdout) as { services: Record<string, Record<string, unknown>>; volumes: Record<string, unknown> };
    const sk = compose.services.securekey!;
    assert.equal(sk.build, '.');
    assert.equal(sk.command, undefined, 'the image CMD runs (node src/main.ts, exec form)');
    assert.equal(sk.entrypoint, undefined);
    const volumes = sk.volumes as string[];
    assert.deepEqual(volumes.filter((v) => /^\.{0,2}\//.test(v)), [], 'no bind mount of the repository');
    const data = volumes.find((v) => v.endsWith(`:${image.env.SECUREKEY_DATA_DIR}`));
    assert.ok(data && data.split(':')[0]! in compose.volumes, 'a named volume on the data directory');
    assert.match(String((sk.environment as Record<string, string>).SECUREKEY_EVENTSTORE), /^kurrentdb:\/\/kurrentdb:2113/);
    assert.deepEqual(Object.keys(sk.depends_on as object), ['kurrentdb']);
    const grace = Number(/^(\d+)s$/.exec(String(sk.stop_grace_period))?.[1]) * 1000;
    assert.ok(grace > 10_000, `stop_grace_period ${sk.stop_grace_period} exceeds the default SECUREKEY_SHUTDOWN_GRACE_MS`);
  });
});

