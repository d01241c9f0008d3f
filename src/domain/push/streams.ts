// Stream names of the push aggregates. Users appear only as a keyed hash (keyring.hmac('user', userId)).

/** A user's registered devices (one aggregate per tenant and user). */
export const pushDevicesStream = (tenantId: string, userIdHash: string) => `pushdevices-${tenantId}.${userIdHash}`;

/** One push approval request. */
export const pushRequestStream = (tenantId: string, requestId: string) => `push-${tenantId}.${requestId}`;

/** A user's index of push requests, used for the fatigue caps (pending and per window). */
export const pushInboxStream = (tenantId: string, userIdHash: string) => `pushinbox-${tenantId}.${userIdHash}`;

/** The keyring purpose under which user ids are hashed for stream names. */
export const USER_HASH_PURPOSE = 'user';
