// The admin API as the console calls it: the token in a header (X-Admin-Token), never in a URL;
// kept in memory, and in this tab's sessionStorage only when the operator asks for it. Failures
// carry the server's message and code (the API envelope).
const KEY = 'securekey-console-token';
let token = sessionStorage.getItem(KEY) ?? '';

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const signedIn = () => token !== '';

export const setToken = (value, remember) => {
  token = value;
  if (remember && value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
};

/** Called when the server refuses the token (401): the app shows the sign-in form. */
let onUnauthorized = () => {};
export const whenUnauthorized = (fn) => (onUnauthorized = fn);

/** A query string from the set values of `params`. */
export const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

/** Calls /api/v1/admin/<path>; resolves with the envelope's data, or throws ApiError. */
export const api = async (method, path, body) => {
  const headers = { 'x-admin-token': token };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1/admin/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError('the server did not answer; is it running?', 'UNAVAILABLE', 0);
  }
  const json = await res.json().catch(() => ({ success: false, error: `HTTP ${res.status}`, code: 'INTERNAL' }));
  if (!json.success) {
    const err = new ApiError(json.error ?? `HTTP ${res.status}`, json.code ?? 'INTERNAL', res.status);
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  return json.data;
};

export const get = (path, params = {}) => api('GET', path + query(params));
