// Files generated from the code and committed, so that readers (and the published SDK) have them
// without running anything: `npm run generate:files` writes them, `--check` lists the stale ones
// (test/generated-files.test.ts fails while any is). docs/api.md is hand-written around its
// `<!-- generated: NAME -->` sections.
import { readFileSync, writeFileSync } from 'node:fs';
import { API_SECTIONS, fillSections, renderSettingsDoc } from './docs.ts';
import { renderSdkTypePins, renderSdkTypes } from './sdk-types.ts';

export const GENERATED: { path: string; render: () => string }[] = [
  { path: 'sdk/node/src/api-types.ts', render: renderSdkTypes },
  { path: 'test/sdk-api-types.pin.ts', render: renderSdkTypePins },
  { path: 'docs/settings.md', render: renderSettingsDoc },
  // Hand-written around generated sections: only those are rewritten.
  { path: 'docs/api.md', render: () => fillSections(current('docs/api.md') ?? '', API_SECTIONS) },
];

const current = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The generated files whose committed content differs from what the code gives now. */
export const staleFiles = (): string[] => GENERATED.filter((g) => current(g.path) !== g.render()).map((g) => g.path);

if (import.meta.main) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    for (const path of stale) console.error(`stale: ${path}`);
    process.exitCode = stale.length ? 1 : 0;
  } else {
    for (const g of GENERATED) {
      const text = g.render();
      if (current(g.path) !== text) (writeFileSync(g.path, text), console.log(`wrote ${g.path}`));
    }
  }
}
