// Ownership by direction, checked on every relative import of src/ and projections/: a module
// may import its own layer or the layers below, never a higher one; the folders form no cycle;
// and an application service imports another one's module only through the shared ones. The
// layers, lowest first, are those of docs/architecture.md.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Unit (a folder, or a file at the top of src/ or projections/) → its layer. */
const LAYERS: Record<string, number> = {
  'src/gen': 0,
  'src/crypto': 0,
  'src/fs': 0,
  'src/sqlite': 0,
  'src/config.ts': 0,
  'src/log.ts': 0,
  'src/heap-flags.ts': 0,
  'src/compile-cache.ts': 0,
  'src/lru.ts': 0,
  'src/domain': 1,
  'src/eventstore': 2,
  'src/privacy': 2,
  'src/senders': 2,
  projections: 3, // runtime.ts and sql.ts: the runner and the SQL helpers
  'src/stream-snapshots': 3, // snapshots of long streams: the event store's port, sealed by privacy
  'src/webhooks': 4,
  'projections/*': 5, // each read model, and projections/index.ts (the list of them)
  'src/app': 6,
  'src/api': 7,
  'src/cli': 7,
  'src/main.ts': 8,
  'src/securekey.ts': 8,
  'src/startup.ts': 8,
};

/** Application modules every service may import; otherwise a service imports no other's files. */
const APP_SHARED = ['src/app/caller.ts', 'src/app/ids.ts', 'src/app/input.ts', 'src/app/read-models.ts', 'src/app/requester.ts', 'src/app/user-id.ts', 'src/app/event-log.ts', 'src/app/user-keys.ts', 'src/app/user-events.ts'];

/** The unit a file belongs to: src/<folder>, a file at the top of src/, projections/<folder>, or
 * projections (its top files but index.ts, which lists the read models). */
export const unitOf = (file: string): string => {
  const [top, second, third] = file.split('/');
  if (top === 'src') return third === undefined ? file : `src/${second}`;
  if (third === undefined && second !== 'index.ts') return 'projections';
  return third === undefined ? 'projections/index.ts' : `projections/${second}`;
};

export const layerOf = (unit: string): number | undefined => LAYERS[unit] ?? (unit.startsWith('projections/') ? LAYERS['projections/*'] : undefined);

export type Edge = { from: string; to: string };

/** Imports into a higher layer, and units without a layer. */
export const layerViolations = (edges: readonly Edge[]): string[] => {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const [a, b] = [unitOf(from), unitOf(to)];
    for (const u of [a, b]) if (layerOf(u) === undefined) out.push(`${u} has no layer (add it to LAYERS and docs/architecture.md)`);
    if (a !== b && layerOf(b)! > layerOf(a)!) out.push(`${from} (${a}, layer ${layerOf(a)}) imports ${to} (${b}, layer ${layerOf(b)})`);
  }
  return [...new Set(out)];
};

/** A cycle among the units, as a path ending where it starts, or undefined. */
export const unitCycle = (edges: readonly Edge[]): string[] | undefined => {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const [a, b] = [unitOf(from), unitOf(to)];
    if (a !== b) next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (u: string, path: string[]): string[] | undefined => {
    if (state.get(u) === 'open') return [...path.slice(path.indexOf(u)), u];
    if (state.get(u) === 'done') return undefined;
    state.set(u, 'open');
    for (const v of next.get(u) ?? []) {
      const c = visit(v, [...path, u]);
      if (c) return c;
    }
    state.set(u, 'done');
    return undefined;
  };
  for (const u of next.keys()) {
    const c = visit(u, []);
    if (c) return c;
  }
  return undefined;
};

/** An application service importing another service's module: each file at the top of src/app is
 * a service (a folder under it, one service in parts); they share only APP_SHARED. */
export const appViolations = (edges: readonly Edge[]): string[] =>
  edges
    .filter(({ from, to }) => unitOf(from) === 'src/app' && unitOf(to) === 'src/app' && from !== to && !APP_SHARED.includes(to))
    .filter(({ from, to }) => dirname(from) === 'src/app' || dirname(from) !== dirname(to))
    .map(({ from, to }) => `${from} imports ${to}: a service uses another only through the shared modules (${APP_SHARED.join(', ')})`);

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const path = `${dir}/${d.name}`;
    if (d.isDirectory()) return path === 'src/gen' ? [] : sourceFiles(path);
    return d.name.endsWith('.ts') ? [path] : [];
  });

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{},\s]+?\s+from\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** Every relative import of src/ and projections/ (type-only ones too: they are dependencies). */
const edgesOfTree = (): Edge[] =>
  ['src', 'projections'].flatMap(sourceFiles).flatMap((from) =>
    [...readFileSync(join(ROOT, from), 'utf8').matchAll(IMPORT)].map((m) => ({ from, to: relative(ROOT, resolve(ROOT, dirname(from), (m[1] ?? m[2])!)) })),
  );

describe('ownership by direction', () => {
  const edges = edgesOfTree();

  test('the tree is read: hundreds of imports, generated code left out', () => {
    assert.ok(edges.length > 300, String(edges.length));
    assert.ok(edges.some((e) => e.to.startsWith('src/gen/')) && !edges.some((e) => e.from.startsWith('src/gen/')));
  });

  test('no module imports a higher layer, and every folder has a layer', () => assert.deepEqual(layerViolations(edges), []));

  test('no cycle between folders', () => assert.equal(unitCycle(edges)?.join(' → '), undefined));

  test("no application service imports another's internals", () => assert.deepEqual(appViolations(edges), []));

  test('the checks catch what they are for: an import into a higher layer, a cycle, a service reaching into another', () => {
    assert.match(layerViolations([{ from: 'src/domain/otp/decider.ts', to: 'src/eventstore/port.ts' }])[0]!, /src\/domain\/otp\/decider\.ts \(src\/domain, layer 1\) imports src\/eventstore\/port\.ts \(src\/eventstore, layer 2\)/);
    assert.match(layerViolations([{ from: 'src/newthing/a.ts', to: 'src/domain/errors.ts' }])[0]!, /src\/newthing has no layer/);
    assert.deepEqual(unitCycle([{ from: 'src/webhooks/worker.ts', to: 'projections/webhooks/index.ts' }, { from: 'projections/webhooks/index.ts', to: 'src/webhooks/outbox.ts' }]), ['src/webhooks', 'projections/webhooks', 'src/webhooks']);
    assert.equal(appViolations([{ from: 'src/app/webauthn/registration.ts', to: 'src/app/totp.ts' }]).length, 1);
    assert.equal(appViolations([{ from: 'src/app/tenants.ts', to: 'src/app/otp.ts' }]).length, 1);
    assert.deepEqual(appViolations([{ from: 'src/app/webauthn/registration.ts', to: 'src/app/webauthn/credential-json.ts' }, { from: 'src/app/otp.ts', to: 'src/app/caller.ts' }]), []);
  });
});
