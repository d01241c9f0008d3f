// Who issued a command, as every application service receives it, and the metadata each of its
// events carries (the audit trail and webhooks read it).
export type CallerInfo = {
  tenantId: string;
  keyId: string;
  requestId: string;
  /** The address the request came from (the tenant's server, usually). */
  clientIp: string;
  /** The end user's address, when the tenant passed it (X-SecureKey-End-User-IP). */
  endUserIp?: string;
};

export const callerMetadata = (c: CallerInfo) => ({
  tenantId: c.tenantId,
  keyId: c.keyId,
  requestId: c.requestId,
  clientIp: c.clientIp,
  ...(c.endUserIp ? { endUserIp: c.endUserIp } : {}),
});
