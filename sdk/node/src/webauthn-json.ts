// The seed passes the browser's own credential objects (`credential.response`, an
// AuthenticatorAttestationResponse) straight to registerVerify. Those objects hold ArrayBuffers
// behind prototype getters, which JSON.stringify turns into {}. This turns them (and plain JSON
// objects, unchanged) into the JSON the server expects: binary fields as base64url.

/** Fields of PublicKeyCredential and AuthenticatorAttestationResponse / AuthenticatorAssertionResponse. */
const RESPONSE_FIELDS = ['id', 'rawId', 'type', 'response', 'authenticatorAttachment', 'clientDataJSON', 'attestationObject', 'authenticatorData', 'signature', 'userHandle', 'publicKey', 'publicKeyAlgorithm', 'transports'] as const;
/** Methods that expose the same data on browser objects (L2/L3). */
const RESPONSE_METHODS = [
  ['getClientExtensionResults', 'clientExtensionResults'],
  ['getTransports', 'transports'],
  ['getAuthenticatorData', 'authenticatorData'],
  ['getPublicKey', 'publicKey'],
  ['getPublicKeyAlgorithm', 'publicKeyAlgorithm'],
] as const;

const base64url = (bytes: Uint8Array): string => {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const isPlain = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Any value the caller passed (JSON or browser objects) → JSON. */
export const toJsonValue = (v: unknown, depth = 0): unknown => {
  if (depth > 16) throw new TypeError('credential object is nested too deeply');
  if (v === null || typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
  if (v instanceof ArrayBuffer) return base64url(new Uint8Array(v));
  if (ArrayBuffer.isView(v)) return base64url(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, depth + 1));
  const obj = v as Record<string, unknown>;
  if (isPlain(obj)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(obj)) {
      const j = toJsonValue(x, depth + 1);
      if (j !== undefined) out[k] = j;
    }
    return out;
  }
  if (typeof obj.toJSON === 'function') return toJsonValue((obj.toJSON as () => unknown)(), depth + 1);
  // A browser object: read the WebAuthn fields through its getters and methods.
  const out: Record<string, unknown> = {};
  for (const k of RESPONSE_FIELDS) {
    if (k in obj && obj[k] !== null && obj[k] !== undefined) out[k] = toJsonValue(obj[k], depth + 1);
  }
  for (const [method, key] of RESPONSE_METHODS) {
    if (out[key] !== undefined || typeof obj[method] !== 'function') continue;
    try {
      const x = (obj[method] as () => unknown).call(obj);
      if (x !== null && x !== undefined) out[key] = toJsonValue(x, depth + 1);
    } catch {
      // Not available for this credential type (e.g. getPublicKey on an unsupported algorithm).
    }
  }
  for (const [k, x] of Object.entries(obj)) {
    if (out[k] === undefined) {
      const j = toJsonValue(x, depth + 1);
      if (j !== undefined) out[k] = j;
    }
  }
  return out;
};
