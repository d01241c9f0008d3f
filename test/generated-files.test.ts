// Files generated from the code and committed (the SDK's API types, the type pins, the generated
// parts of docs/) must be what the code gives now: run `npm run generate:files` after a change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENERATED, staleFiles } from '../scripts/generate/index.ts';

test('every generated file is up to date with the code it comes from', () => {
  assert.ok(GENERATED.length > 0);
  assert.deepEqual(staleFiles(), [], 'stale generated files: run `npm run generate:files` and commit the result');
});
