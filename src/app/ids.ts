// Ids of what the services create (tenants, keys, codes, push requests, devices) come from one
// generator that the composition root passes in, as time does: tests give their own. Secrets (API
// keys, webhook secrets, codes) never come from it: they always come from the CSPRNG.
import { randomChunk } from '../crypto/random.ts';

export type NewId = () => string;

/** 128 random bits, base64url: 22 characters of [A-Za-z0-9_-]. */
export const randomId: NewId = () => randomChunk(16).toString('base64url');
