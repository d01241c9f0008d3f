// A push approval is a one-time credential: verify uses it once (then PUSH_NOT_FOUND, like a used
// code), and nothing verifies after expiresAt — over the REST API and gRPC, with the clock moved.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PushService } from '../src/gen/securekey/v1/push_pb.js';
import { createTestClock } from './helpers/clock.ts';
import { grpcCall } from './helpers/grpc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('push: an approval verifies once, and only before it expires', () => {
  let s: TestServer;
  let apiKey: string;
  const clock = createTestClock();
  before(async () => {
    s = await startTestServer({}, { now: clock.now });
    apiKey = (await s.createTenant('push-once')).apiKey;
  });
  after(() => s.stop());

  const approved = async () => {
    const userId = `u-${randomBytes(4).toString('hex')}`;
    await s.call(apiKey, '/api/v1/push/devices', { userId, fcmToken: `tok_${randomBytes(12).toString('hex')}`, platform: 'ios' });
    const { requestId } = (await s.call(apiKey, '/api/v1/push/send', { userId, title: 'Sign in?' })).body.data;
    assert.equal((await s.call(apiKey, '/api/v1/push/respond', { requestId, action: 'approve' })).body.data.status, 'approved');
    return { userId, requestId: requestId as string };
  };

  test('the first verify is true; the next one is 404 PUSH_NOT_FOUND "already used" (REST and gRPC alike)', async () => {
    const { requestId, userId } = await approved();
    const first = await s.call(apiKey, '/api/v1/push/verify', { requestId, userId });
    assert.deepEqual(first.body.data, { verified: true, status: 'approved' });
    const again = await s.call(apiKey, '/api/v1/push/verify', { requestId });
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'PUSH_NOT_FOUND');
    assert.match(again.body.error, /already used/);
    const g = await grpcCall(`127.0.0.1:${s.port}`, PushService.method.verifyPush, { requestId }, { 'x-api-key': apiKey });
    assert.equal(g.ok, false);
    assert.equal(!g.ok && g.code, 5); // NOT_FOUND
  });

  test('two verifies racing: exactly one is true', async () => {
    const { requestId } = await approved();
    const answers = await Promise.all([1, 2, 3].map(() => s.call(apiKey, '/api/v1/push/verify', { requestId })));
    assert.equal(answers.filter((a) => a.status === 200 && a.body.data.verified === true).length, 1);
    assert.equal(answers.filter((a) => a.body.code === 'PUSH_NOT_FOUND').length, 2);
  });

  test('an approval not verified before expiresAt never verifies: verified false, status expired', async () => {
    const { requestId } = await approved();
    clock.advance(121_000);
    const late = await s.call(apiKey, '/api/v1/push/verify', { requestId });
    assert.equal(late.status, 200);
    assert.deepEqual(late.body.data, { verified: false, status: 'expired' });
    assert.deepEqual((await s.call(apiKey, '/api/v1/push/verify', { requestId })).body.data, { verified: false, status: 'expired' });
  });

  test('the verification is recorded (audit: verification.succeeded) and no webhook fires twice', async () => {
    const { requestId } = await approved();
    const head = s.head();
    await s.call(apiKey, '/api/v1/push/verify', { requestId });
    assert.deepEqual(s.events(head).map((e) => e.type), ['PushApprovalConsumed']);
  });
});
