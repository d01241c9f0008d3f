// Every query of the audit trail (the console's and API's queryAudit, the CLI's export, a user's
// streams for history, export and erasure) is served by an index: EXPLAIN QUERY PLAN never shows
// a scan of the whole table for one tenant. A read model may change which indexes it keeps current
// while catching up (projections/bulk.ts); this says which ones its queries need at all.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { auditPageQuery, auditProjection, auditStreamsQuery, type AuditFilter } from '../projections/audit/index.ts';

const planOf = (db: DatabaseSync, q: { sql: string; args: (string | number)[] }) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.args) as { detail: string }[]).map((r) => r.detail).join('; ');

const setup = () => {
  const db = new DatabaseSync(':memory:');
  auditProjection.init(db);
  return db;
};

const user = { userId: 'user-1', userKeys: ['key-0', 'key-1'] };
const tenantId = 'tn_plans';

const cases: [string, AuditFilter][] = [
  ['one tenant', { tenantId }],
  ['one tenant, a channel and an outcome', { tenantId, channel: 'sms', outcome: 'failure' }],
  // Through the tenant's index too (in position order, the time tested row by row): SQLite does
  // not take audit_tenant_at for a time range without statistics (no ANALYZE is ever run).
  ['one tenant, a time range', { tenantId, from: 1_700_000_000_000, to: 1_700_000_100_000 }],
];

for (const [name, filter] of cases) {
  test(`the audit trail of ${name} is read through the tenant's index, in position order`, () => {
    const plan = planOf(setup(), auditPageQuery(filter, 0, 101));
    assert.equal(plan, 'SEARCH audit_log USING INDEX audit_tenant (tenant_id=? AND position>?)');
  });
}

test("a user's audit rows (queryAudit, a user's streams) are found through the user_key index and the partial index of clear ids, not the tenant's", () => {
  const db = setup();
  for (const q of [auditPageQuery({ tenantId, user, channel: 'sms' }, 0, 101), auditStreamsQuery(tenantId, user)]) {
    const plan = planOf(db, q);
    assert.match(plan, /^SEARCH audit_log USING INTEGER PRIMARY KEY \(rowid=\?\); LIST SUBQUERY/, plan);
    assert.match(plan, /SEARCH audit_log USING COVERING INDEX audit_tenant_user_key \(tenant_id=\? AND user_key=\? AND position>\?\)/, plan);
    assert.match(plan, /SEARCH audit_log USING COVERING INDEX audit_tenant_legacy_user \(tenant_id=\? AND user_id=\? AND position>\?\)/, plan);
    assert.doesNotMatch(plan, /audit_tenant \(|SCAN|FOR ORDER BY/, plan);
  }
});

test('the export of every tenant reads the table in position order, without a sort', () => {
  const db = setup();
  const plan = planOf(db, auditPageQuery({}, 0, 1000));
  assert.match(plan, /SEARCH audit_log USING INTEGER PRIMARY KEY \(rowid>\?\)/);
  assert.doesNotMatch(plan, /TEMP B-TREE/);
});
