// Webhook secrets: after a rotation the previous secret signs too (so receivers can switch over),
// and an admin call revokes it at once; receivers check the timestamped V2 signature by default.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { verifyWebhook } from '../sdk/node/src/webhook.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

describe('webhook secrets: rotation, immediate revocation of the previous one', () => {
  let s: TestServer;
  const got: { raw: string; headers: IncomingHttpHeaders }[] = [];
  const receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    got.push({ raw: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
    res.writeHead(200).end();
  });
  let t: { tenantId: string; apiKey: string; webhookSecret: string };
  before(async () => {
    s = await startTestServer();
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t = await s.createTenant('secrets', { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
  });
  after(async () => {
    await s.stop();
    receiver.closeAllConnections();
    receiver.close();
  });

  /** One outcome event (a TOTP enrollment confirmed would need a code; an OTP failure is simplest). */
  let n = 0;
  const nextDelivery = async () => {
    const before = got.length;
    const email = `hook-${++n}@example.com`;
    await s.call(t.apiKey, '/api/v1/email-otp/send', { email });
    await s.call(t.apiKey, '/api/v1/email-otp/verify', { email, code: '000000' }); // verification.failed
    return until('a delivery', () => got[before]);
  };
  const v1Entries = (h: IncomingHttpHeaders) => String(h['x-securekey-signature-v2']).split(',').filter((p) => p.startsWith('v1=')).length;

  test('after a rotation both secrets sign; revoke-previous stops the old one at once; revoking again changes nothing', async () => {
    const first = await nextDelivery();
    assert.equal(v1Entries(first.headers), 1);
    assert.equal(verifyWebhook(first.raw, first.headers, t.webhookSecret).event, 'verification.failed');

    const rotated = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/webhook-secret`);
    const newSecret = rotated.body.data.webhookSecret as string;
    const during = await nextDelivery();
    assert.equal(v1Entries(during.headers), 2, 'the grace period: the previous secret signs too');
    assert.ok(during.headers['x-securekey-signature-previous']);
    assert.equal(verifyWebhook(during.raw, during.headers, t.webhookSecret).event, 'verification.failed', 'the old secret still verifies');
    assert.equal(verifyWebhook(during.raw, during.headers, newSecret).event, 'verification.failed');

    const revoked = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/webhook-secret/revoke-previous`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.data.revoked, true);
    const afterwards = await nextDelivery();
    assert.equal(v1Entries(afterwards.headers), 1);
    assert.equal(afterwards.headers['x-securekey-signature-previous'], undefined);
    assert.throws(() => verifyWebhook(afterwards.raw, afterwards.headers, t.webhookSecret), /signature/, 'the old secret no longer verifies');
    assert.equal(verifyWebhook(afterwards.raw, afterwards.headers, newSecret).event, 'verification.failed');

    const again = await s.admin('POST', `/api/v1/admin/tenants/${t.tenantId}/webhook-secret/revoke-previous`);
    assert.equal(again.body.data.revoked, false, 'nothing left to revoke');
    const unknown = await s.admin('POST', '/api/v1/admin/tenants/tn_nope/webhook-secret/revoke-previous');
    assert.equal(unknown.status, 404);
  });
});
