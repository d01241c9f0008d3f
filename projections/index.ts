// Every read model, where it lives: the server runs them, replay rebuilds them.
import type { Keyring } from '../src/crypto/keyring.ts';
import { auditProjection } from './audit/index.ts';
import { erasuresProjection } from './erasures/index.ts';
import { createMfaVerificationsProjection } from './mfa-verifications/index.ts';
import { otpCountersProjection } from './otp-counters/index.ts';
import { otpStatsProjection } from './otp-stats/index.ts';
import { insightsProjection } from './insights/index.ts';
import type { Projection } from './runtime.ts';
import { tenantsProjection } from './tenants/index.ts';
import { webhooksProjection } from './webhooks/index.ts';

/** This node's read models (SECUREKEY_NODE_ID names their file). */
export const nodeProjections = (keyring: Keyring): Projection[] => [
  tenantsProjection,
  auditProjection,
  otpCountersProjection,
  otpStatsProjection,
  insightsProjection,
  createMfaVerificationsProjection({ userKeyOf: (userId) => keyring.hmac('user', userId) }),
  erasuresProjection,
];

/** The webhook outbox lives in one database shared by every node of a data directory, so that
 * whichever node delivers sees what was already delivered. */
export const sharedProjections: Projection[] = [webhooksProjection];
