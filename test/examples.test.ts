// The runnable examples in examples/ (one per seed language), each run as its README says against
// a live server, as a user would: codes typed from the phone or inbox (here: read from the test's
// SMS gateway and SMTP server), the authenticator app's code (computed from the printed URI), the
// push approved on the "phone" (the test answers /push/respond). A language whose toolchain is not
// on this machine is skipped, and the summary line says which ran and why others did not.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import { startPeers } from '../sdk/node/test/peers.ts';
import { installTarball, packNodeSdk } from './helpers/node-sdk.ts';
import { installPythonSdk, wheelPython } from './helpers/python-sdk.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { systemNode } from './helpers/system-node.ts';
import { until } from './helpers/until.ts';

const work = mkdtempSync(join(tmpdir(), 'securekey-examples-'));

/** Why a command cannot run here (undefined when it can). */
const missingTool = (cmd: string, args: string[], what: string): string | undefined => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${what} is not installed (${cmd} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status}`})`;
};

type Example = {
  lang: string;
  /** Why it cannot run here, or undefined. */
  skip: string | undefined;
  /** Copies or installs what the example needs into `dir` (a copy of examples/<lang>); returns the command to run there. */
  prepare: (dir: string) => Promise<string[]>;
  totp: boolean;
};

const node = systemNode();
const python = wheelPython();
const phpMissing = missingTool('php', ['-r', 'exit(function_exists("curl_init") ? 0 : 1);'], 'php with the curl extension (Debian: php-cli php-curl)');

const EXAMPLES: Example[] = [
  {
    lang: 'node',
    skip: node ? undefined : 'no node outside node_modules on PATH',
    prepare: async (dir) => (await installTarball(dir, await packNodeSdk(join(work, 'node-sdk-pack'))), [node!.path, 'quickstart.mjs']),
    totp: true,
  },
  {
    lang: 'python',
    skip: 'reason' in python ? python.reason : undefined,
    prepare: async (dir) => [(await installPythonSdk((python as { python: string }).python, join(work, 'python-sdk'))).venvPython, 'quickstart.py'],
    totp: true,
  },
  { lang: 'java', skip: missingTool('java', ['-version'], 'java (a JDK 11+)'), prepare: async () => ['java', 'Quickstart.java'], totp: false },
  { lang: 'go', skip: missingTool('go', ['version'], 'go (Debian: golang-go)'), prepare: async () => ['go', 'run', '.'], totp: false },
  { lang: 'php', skip: phpMissing, prepare: async () => ['php', 'quickstart.php'], totp: false },
  {
    lang: 'csharp',
    skip: missingTool('dotnet', ['--version'], 'dotnet (the .NET 8 SDK; not packaged in Debian)'),
    prepare: async () => ['dotnet', 'run', '--project', '.'],
    totp: true,
  },
];

let s: TestServer;
let peers: Awaited<ReturnType<typeof startPeers>>;
const ran: string[] = [];

before(async () => {
  peers = await startPeers();
  s = await startTestServer(peers.env);
});
after(async () => {
  const skipped = EXAMPLES.filter((e) => e.skip).map((e) => `${e.lang} (${e.skip})`);
  console.log(`# examples: ran ${ran.join(', ') || 'none'}; skipped ${skipped.join('; ') || 'none'}`);
  await s?.stop();
  await peers?.close();
  rmSync(work, { recursive: true, force: true });
});

/**
 * Runs the example with its prompts answered as a user would: each prompt ends a line without a
 * newline ("... Code: "), and the answer is written to stdin once it shows.
 */
const runExample = async (ex: Example, i: number) => {
  const dir = join(work, ex.lang);
  cpSync(join('examples', ex.lang), dir, { recursive: true });
  const [cmd, ...args] = await ex.prepare(dir);
  const { apiKey } = await s.createTenant(`example-${ex.lang}`);
  const phone = `0101234${String(1000 + i)}`;
  const email = `${ex.lang}@example.com`;
  const child = spawn(cmd!, args, {
    cwd: dir,
    env: { ...process.env, SECUREKEY_URL: s.url, SECUREKEY_API_KEY: apiKey, SECUREKEY_PHONE: phone, SECUREKEY_EMAIL: email, SECUREKEY_USER_ID: `user_${ex.lang}`, GOPROXY: 'off', GOFLAGS: '-mod=mod', DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  let answered = 0;
  const answer = async (what: string, prompt: RegExp, reply: (m: RegExpExecArray) => string | Promise<string>) => {
    const m = await until(`${ex.lang}: ${what}`, () => prompt.exec(out.slice(answered)) ?? (child.exitCode !== null ? assert.fail(`exited ${child.exitCode}:\n${out}\n${err}`) : undefined), 120_000);
    answered += m!.index + m![0].length;
    child.stdin.write(`${await reply(m!)}\n`);
  };
  try {
    await answer('the SMS code prompt', /SMS code sent to \+82 10-\*{4}-\d{4}\. Code: $/, () => peers.lastCode(`+8210${phone.slice(3)}`));
    await answer('the email code prompt', /Email code sent to \w\*{3}@example\.com\. Code: $/, () => peers.lastCode(email));
    if (ex.totp) await answer('the authenticator prompt', /Add to an authenticator app: (otpauth:\/\/\S+)\r?\nCode from the app: $/, (m) => generate({ secret: new URL(m[1]!).searchParams.get('secret')! }));
    await answer('the push prompt', /Push sent \(request (\S+)\)\. Approve it on the phone, then press Enter: $/, async (m) => {
      const r = await s.call(apiKey, '/api/v1/push/respond', { requestId: m[1], action: 'approve' }); // what the phone's app does
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return '';
    });
    assert.equal(await exited, 0, `${out}\n${err}`);
  } finally {
    child.kill();
  }
  const lines = out.replace(/^.*: (?=\w+ verified:)/gm, '').split(/\r?\n/);
  assert.deepEqual(
    lines.filter((l) => / verified: /.test(l)),
    ['sms verified: true', 'email verified: true', ...(ex.totp ? ['totp verified: true'] : []), 'push verified: true'],
    out,
  );
  assert.ok(lines.some((l) => /^passkey options for localhost: challenge [\w-]{20,}$/.test(l)), out);
  ran.push(ex.lang);
};

// Several at once: most of each run is a toolchain starting or compiling, or waiting on the server.
describe('examples/: the seed flow in every seed language against a live server', { concurrency: 3 }, () => {
  EXAMPLES.forEach((ex, i) => {
    test(`${ex.lang}: SMS and email codes${ex.totp ? ', TOTP' : ''}, passkey options and a push approval`, { skip: ex.skip }, () => runExample(ex, i));
  });
});
