// README.md as a new user follows it: every shell command on it runs as written (the walk-through
// and the admin commands against a server started with `npm start`, only the port changed), the
// outputs it shows match what comes back, and every link in the repository's documentation points
// to a file (and heading) in the repository.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, test } from 'node:test';
import { startChildServer } from './helpers/child-server.ts';
import { freePort } from './helpers/dockerfile.ts';

type Command = { line: string; expected: string[] };

/** The commands of every ```sh block: continuation lines joined, each with the `# {...}` output lines after it. */
export const shellCommands = (markdown: string): Command[] => {
  const commands: Command[] = [];
  for (const [, block] of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block!.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!.trim();
      if (!line) continue;
      if (line.startsWith('#')) {
        if (/^# [{[]/.test(line) && commands.length) commands.at(-1)!.expected.push(line.slice(2));
        continue;
      }
      while (line.endsWith('\\')) line = `${line.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
      commands.push({ line, expected: [] });
    }
  }
  return commands;
};

/** Commands run elsewhere, and where. */
const COVERED_ELSEWHERE: Record<string, string> = {
  'npm ci && npm test': '.ci/run runs exactly this from a clean clone',
  'npm ci && npm start': 'npm ci: .ci/run; npm start: this test starts the server with it',
};

/** `actual` has the shape of the README's `expected`: the same keys, equal values; "..." in a string stands for any text. */
const assertShape = (actual: unknown, expected: unknown, path = '$'): void => {
  if (typeof expected === 'string' && expected.includes('...')) {
    assert.equal(typeof actual, 'string', path);
    const re = new RegExp(`^${expected.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
    assert.match(actual as string, re, path);
  } else if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', path);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), path);
    for (const [k, v] of Object.entries(expected)) assertShape((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else assert.deepEqual(actual, expected, path);
};

const bash = (line: string, env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile('bash', ['-c', line], { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code) || 1 : 0, stdout, stderr }),
    ),
  );

describe('README.md', () => {
  const readme = readFileSync('README.md', 'utf8');
  const commands = shellCommands(readme);

  test('every command in a shell block is run by this test, or by CI as named here', () => {
    assert.ok(commands.length >= 10, `found ${commands.length} commands`);
    for (const covered of Object.keys(COVERED_ELSEWHERE)) assert.ok(commands.some((c) => c.line === covered), `"${covered}" is still on the README`);
  });

  // Some twenty processes one after the other (npm, the CLI, curl): slow on a loaded machine, hence its own timeout.
  test('the walk-through and the admin commands run as written against `npm start`, with the outputs shown', { timeout: 600_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'securekey-readme-'));
    const dataDir = join(work, 'data');
    const port = await freePort();
    const server = await startChildServer({ PORT: String(port), HOST: '127.0.0.1', SECUREKEY_DATA_DIR: dataDir }, ['npm', 'start']);
    try {
      const vars: Record<string, string> = {};
      let last: Record<string, unknown> | undefined;
      let ran = 0;
      for (const { line, expected } of commands) {
        if (COVERED_ELSEWHERE[line]) continue;
        // `export NAME=value   # the FIELD printed above`: the value comes from the previous output.
        const exported = /^export (\w+)=\S+\s+# the (\w+) printed above$/.exec(line);
        if (exported) {
          const value = last?.[exported[2]!];
          assert.equal(typeof value, 'string', `${line}: no ${exported[2]} in the previous output`);
          vars[exported[1]!] = value as string;
          continue;
        }
        const r = await bash(line.replaceAll('localhost:8080', `localhost:${port}`), { ...process.env, ...vars, SECUREKEY_DATA_DIR: dataDir, NO_COLOR: '1' });
        assert.equal(r.code, 0, `${line}\nexit ${r.code}\n${r.stdout}\n${r.stderr}`);
        ran++;
        if (line.startsWith('npm run -s admin') && !line.includes('settings list')) assert.match(r.stderr, new RegExp(`^data directory: ${dataDir} \\(SECUREKEY_DATA_DIR\\)$`, 'm'), `${line}: names its data directory`);
        try {
          last = JSON.parse(r.stdout.trim());
        } catch {
          last = undefined;
        }
        if (expected.length) {
          assert.ok(last, `${line}: one JSON answer expected, got ${r.stdout}`);
          assertShape(last, JSON.parse(expected.join('')), line);
        }
      }
      assert.ok(ran >= 10, `ran ${ran} commands`);
    } finally {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});

/** GitHub's anchor for a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const markdownFiles = (): string[] => {
  const out = ['README.md'];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.md')) out.push(p);
    }
  };
  for (const d of ['docs', 'sdk', 'examples']) if (existsSync(d)) walk(d);
  return out;
};

test('every link in the documentation points to a file (and heading) inside the repository', () => {
  const files = markdownFiles();
  assert.ok(files.includes('docs/api.md') && files.includes('docs/operations.md') && files.includes('docs/settings.md'), files.join(', '));
  const problems: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target!)) continue;
      const [path, anchor] = target!.split('#');
      const resolved = path ? normalize(join(dirname(file), path)) : file;
      if (relative('.', resolved).startsWith('..')) problems.push(`${file}: ${target} leaves the repository`);
      else if (!existsSync(resolved)) problems.push(`${file}: ${target} does not exist`);
      else if (anchor && resolved.endsWith('.md')) {
        const headings = [...readFileSync(resolved, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!));
        if (!headings.includes(anchor)) problems.push(`${file}: ${target}: no heading #${anchor}`);
      }
    }
    if (/\.\.\/shared/.test(text)) problems.push(`${file} mentions ../shared`);
  }
  assert.deepEqual(problems, []);
});

test('docs/operations.md describes every environment variable the server and the CLI read', () => {
  const read = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (p !== join('src', 'gen')) walk(p);
      } else if (p.endsWith('.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]|\(env, '([A-Z][A-Z0-9_]+)'/g)) read.add((m[1] ?? m[2] ?? m[3])!);
      }
    }
  };
  walk('src');
  assert.ok(read.has('PORT') && read.has('SECUREKEY_MASTER_KEY') && read.has('LOG_FORMAT'), [...read].join(', '));
  const doc = readFileSync('docs/operations.md', 'utf8');
  const table = doc.slice(doc.indexOf('## Configuration'), doc.indexOf('## Logs'));
  // Rows name related variables together: `SECUREKEY_RATE_LIMIT_GLOBAL` / `_SEND` / `_VERIFY`.
  // (the suffix replaces as many trailing words of the first name as it has).
  const abbreviated = [...table.matchAll(/`([A-Z][A-Z0-9_]*)`((?: \/ `_[A-Z0-9_]+`)+)/g)].flatMap(([, base, rest]) =>
    [...rest!.matchAll(/`(_[A-Z0-9_]+)`/g)].map(([, suffix]) => base!.split('_').slice(0, -(suffix!.split('_').length - 1)).join('_') + suffix),
  );
  const named = (v: string) => table.includes(`\`${v}\``) || abbreviated.includes(v);
  assert.deepEqual([...read].filter((v) => !named(v)).sort(), []);
});
