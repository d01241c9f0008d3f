// SecureKey demo page. No inline script (the CSP forbids it); talks only to this origin's /api/v1.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const { startRegistration, startAuthentication, browserSupportsWebAuthn } = window.SimpleWebAuthnBrowser;

  // An API key given as #key=... is taken once, then removed from the address bar and history.
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  if (key) {
    $('apiKey').value = key;
    history.replaceState(null, '', location.pathname + location.search);
  }

  const log = (text, ok = true) => {
    const li = document.createElement('li');
    li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    if (!ok) li.className = 'fail';
    $('log').prepend(li);
  };

  const show = (id, state, text) => {
    $(id).dataset.state = state;
    $(id).textContent = text;
  };

  /** POST to our own API with the tenant key; returns the envelope's data or throws its error. */
  const api = async (path, body) => {
    const apiKey = $('apiKey').value.trim();
    if (!apiKey) throw new Error('paste an API key first');
    const res = await fetch(`/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const json = await res.json().catch(() => null);
    if (!json || json.success !== true) throw new Error(json && json.code ? `${json.code}: ${json.error}` : `HTTP ${res.status}`);
    log(`${path}: ${json.message}`);
    return json.data;
  };

  const userId = () => $('userId').value.trim();

  /** Runs an action from a button: disabled while it runs, errors shown in the result line. */
  const action = (buttonId, resultId, fn) =>
    $(buttonId).addEventListener('click', async () => {
      $(buttonId).disabled = true;
      show(resultId, 'busy', 'Working…');
      try {
        await fn();
      } catch (err) {
        const text = err && err.message ? err.message : String(err);
        show(resultId, 'fail', `Failed: ${text}`);
        log(text, false);
      } finally {
        $(buttonId).disabled = false;
      }
    });

  action('totpSetup', 'totpResult', async () => {
    const data = await api('/totp/setup', { userId: userId(), accountName: $('accountName').value.trim() });
    $('totpQr').src = data.qrCodeDataUrl;
    $('totpSecret').textContent = data.secret;
    $('totpEnrollment').hidden = false;
    show('totpResult', 'enrolling', 'Scan the code, then enter the 6 digits from the app to confirm.');
  });

  action('totpVerify', 'totpResult', async () => {
    const data = await api('/totp/verify', { userId: userId(), token: $('totpCode').value.trim() });
    if (data.verified) show('totpResult', 'ok', 'Code accepted: TOTP is confirmed for this user.');
    else show('totpResult', 'fail', data.retryAfter ? `Code refused; wait ${data.retryAfter} s before the next try.` : 'Code refused.');
  });

  action('passkeyRegister', 'passkeyResult', async () => {
    if (!browserSupportsWebAuthn()) throw new Error('this browser does not support passkeys (WebAuthn)');
    const user = userId();
    if (!user) throw new Error('enter a user id to register a passkey');
    const options = await api('/webauthn/register/options', { userId: user, userName: user });
    const credential = await startRegistration({ optionsJSON: options.publicKey });
    const data = await api('/webauthn/register/verify', { userId: user, deviceName: $('deviceName').value.trim(), ...credential });
    if (!data.verified) throw new Error('the server did not accept the passkey');
    show('passkeyResult', 'ok', `Passkey registered (credential ${data.credentialId.slice(0, 12)}…).`);
  });

  action('passkeySignIn', 'passkeyResult', async () => {
    if (!browserSupportsWebAuthn()) throw new Error('this browser does not support passkeys (WebAuthn)');
    const user = userId();
    const options = await api('/webauthn/authenticate/options', user ? { userId: user } : {});
    const assertion = await startAuthentication({ optionsJSON: options.publicKey });
    const data = await api('/webauthn/authenticate/verify', user ? { userId: user, ...assertion } : assertion);
    if (data.verified) show('passkeyResult', 'ok', `Signed in as ${data.userId} with a passkey.`);
    else show('passkeyResult', 'fail', 'Sign-in refused.');
  });
})();
