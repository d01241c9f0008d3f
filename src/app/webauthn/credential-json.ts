// The browser's credential JSON (the seed sends ids and fields in base64 or base64url), checked
// and normalised into the types of @simplewebauthn/server, and the challenge it signed.
import type { AuthenticationResponseJSON, AuthenticatorAttachment, RegistrationResponseJSON } from '@simplewebauthn/server';
import { DomainError } from '../../domain/errors.ts';

/** Standard base64 (the seed sends btoa(...)) → base64url; base64url passes unchanged. */
export const toBase64Url = (s: string): string => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

type JsonRecord = Record<string, unknown>;
const isRecord = (v: unknown): v is JsonRecord => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A base64 or base64url string field as base64url; "" when absent (the check then fails). */
const b64url = (v: unknown) => (typeof v === 'string' ? toBase64Url(v) : '');
type Transport = NonNullable<RegistrationResponseJSON['response']['transports']>[number];
const TRANSPORTS: readonly Transport[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];
const isTransport = (t: unknown): t is Transport => TRANSPORTS.some((x) => x === t);
const ATTACHMENTS: readonly AuthenticatorAttachment[] = ['platform', 'cross-platform'];
const isAttachment = (a: unknown): a is AuthenticatorAttachment => ATTACHMENTS.some((x) => x === a);

/** What every credential JSON has: ids (base64 or base64url), type, response, attachment. */
const credentialParts = (c: unknown) => {
  if (!isRecord(c) || typeof c.id !== 'string' || !c.id || !isRecord(c.response)) throw new DomainError('INVALID_ARGUMENT', 'credential must have id, rawId, type and response');
  if (c.type !== undefined && c.type !== '' && c.type !== 'public-key') throw new DomainError('INVALID_ARGUMENT', 'credential type: expected "public-key"');
  const id = toBase64Url(c.id);
  const attachment = c.authenticatorAttachment;
  return {
    id,
    rawId: typeof c.rawId === 'string' && c.rawId ? toBase64Url(c.rawId) : id,
    type: 'public-key' as const,
    clientExtensionResults: {},
    ...(isAttachment(attachment) ? { authenticatorAttachment: attachment } : {}),
    response: c.response,
  };
};

/** The browser's registration credential (JSON as sent), checked and normalised. */
export const registrationCredentialOf = (c: unknown): RegistrationResponseJSON => {
  const { response: r, ...rest } = credentialParts(c);
  const transports = Array.isArray(r.transports) ? r.transports.filter(isTransport) : undefined;
  return { ...rest, response: { clientDataJSON: b64url(r.clientDataJSON), attestationObject: b64url(r.attestationObject), ...(transports ? { transports } : {}) } };
};

/** The browser's assertion (JSON as sent), checked and normalised. */
export const authenticationCredentialOf = (c: unknown): AuthenticationResponseJSON => {
  const { response: r, ...rest } = credentialParts(c);
  return {
    ...rest,
    response: {
      clientDataJSON: b64url(r.clientDataJSON),
      authenticatorData: b64url(r.authenticatorData),
      signature: b64url(r.signature),
      ...(typeof r.userHandle === 'string' && r.userHandle ? { userHandle: toBase64Url(r.userHandle) } : {}),
    },
  };
};

/** The challenge the browser signed, read from clientDataJSON. */
export const challengeOf = (c: { response: { clientDataJSON?: unknown } }): string => {
  try {
    const parsed = JSON.parse(Buffer.from(String(c.response.clientDataJSON), 'base64url').toString('utf8')) as { challenge?: unknown };
    if (typeof parsed.challenge === 'string' && parsed.challenge) return parsed.challenge;
  } catch {
    // fall through
  }
  throw new DomainError('INVALID_ARGUMENT', 'response.clientDataJSON is not base64url-encoded client data JSON');
};
