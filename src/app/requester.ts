// Who asked for a code or tried one, for the per-requester caps and delays that keep an attacker
// from locking a victim out (docs/security.md, lock-out policy): the end user's address when the
// tenant passes it (X-SecureKey-End-User-IP), else the API key. Stored only as a keyed hash.
import type { Keyring } from '../crypto/keyring.ts';
import { clientNetOf } from '../domain/address.ts';
import type { CallerInfo } from './caller.ts';

export const requesterOf = (keyring: Pick<Keyring, 'hmac'>, caller: CallerInfo): string =>
  keyring.hmac('requester', caller.endUserIp ? `ip:${clientNetOf(caller.endUserIp)}` : `key:${caller.keyId}`);
