// Which of a tenant's webhook secrets sign a delivery: one rule for the SQLite worker (worker.ts)
// and the KurrentDB endpoint lookup (kurrent/endpoints.ts).

/** After a rotation, deliveries are also signed with the previous secret for this long. */
export const DEFAULT_SECRET_GRACE_MS = 24 * 3600_000;

/** The secret columns of a webhook_endpoints row (projections/webhooks). */
export type EndpointSecretsRow = { secret_enc: string | null; previous_secret_enc: string | null; rotated_at: number | null };

/** Pure: the encrypted secrets to sign with at `now` (epoch ms): the current one, then the
 * previous one while now - rotated_at < graceMs; [] when there is no current secret. */
export const signingSecretsEnc = (row: EndpointSecretsRow, now: number, graceMs: number): string[] => {
  if (!row.secret_enc) return [];
  if (row.previous_secret_enc && row.rotated_at !== null && now - row.rotated_at < graceMs) return [row.secret_enc, row.previous_secret_enc];
  return [row.secret_enc];
};
