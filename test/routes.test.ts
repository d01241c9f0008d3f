// The route table's finder: the first route in table order whose verb and path match, found by one
// lookup for a plain path (no {field}) and by a scan otherwise; both must give the same answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRoutes, matchPath, routeFinder, type Route } from '../src/api/routes.ts';

const scan = (routes: Route[], method: string, path: string) => routes.find((r) => r.verb === method && matchPath(r, path.split('/').filter(Boolean)));
const concrete = (r: Route) => '/' + r.segments.map((s) => ('literal' in s ? s.literal : 'u%20ser-1')).join('/');

test('every route is found by its verb and path, as a scan of the table in order finds it', () => {
  const routes = buildRoutes();
  const find = routeFinder(routes);
  for (const r of routes) {
    const path = concrete(r);
    for (const p of [path, path + '/', path.replace(/^\//, '//')]) assert.equal(find(r.verb, p), scan(routes, r.verb, p), `${r.verb} ${p}`);
    assert.equal(find(r.verb, `/${r.service.typeName}/${r.method.name}`), r, 'by RPC path');
  }
  assert.equal(find('PUT', concrete(routes[0]!)), undefined);
  assert.equal(find('POST', '/api/v1/nope'), undefined);
});

test('a plain path that an earlier route with a {field} also matches goes to that earlier route, as the scan does', () => {
  const [a, b] = buildRoutes().filter((r) => r.verb === 'GET');
  const param: Route = { ...a!, name: 'X.Param', segments: [{ literal: 'api' }, { literal: 'v1' }, { field: 'user_id' }] };
  const plain: Route = { ...b!, name: 'X.Plain', segments: [{ literal: 'api' }, { literal: 'v1' }, { literal: 'search' }] };
  assert.equal(routeFinder([param, plain])('GET', '/api/v1/search'), param);
  assert.equal(routeFinder([plain, param])('GET', '/api/v1/search'), plain);
  assert.equal(routeFinder([plain, param])('GET', '/api/v1/other'), param);
});
