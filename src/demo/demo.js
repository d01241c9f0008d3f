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

  // Browsers refuse an IP address as a passkey domain ("127.0.0.1 is an invalid domain"): say so up front.
  const isIpAddress = (host) => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[');
  const localhostUrl = () => `${location.protocol}//localhost${location.port ? `:${location.port}` : ''}${location.pathname}`;
  const ipHint = () =>
    `Passkeys need a domain name, and ${location.hostname} is an IP address (browsers answer "invalid domain"). ` +
    `Open ${localhostUrl()} instead, or set SECUREKEY_PUBLIC_URL (or the tenant's webauthnRpId and webauthnOrigins) to the name you use.`;
  if (isIpAddress(location.hostname)) {
    $('originHint').textContent = ipHint();
    $('originHint').hidden = false;
  }

  // Tabs: one channel at a time.
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener('click', () => {
      for (const t of document.querySelectorAll('[role="tab"]')) t.setAttribute('aria-selected', String(t === tab));
      for (const p of document.querySelectorAll('[role="tabpanel"]')) p.hidden = p.dataset.panel !== tab.dataset.tab;
    });
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

  // TOTP
  action('totpSetup', 'totpResult', async () => {
    const data = await api('/totp/setup', { userId: userId(), accountName: $('accountName').value.trim() });
    $('totpQr').src = data.qrCodeDataUrl;
    $('totpSecret').textContent = data.secret;
    $('totpEnrollment').hidden = false;
    show('totpResult', 'enrolling', 'Scan the code, then enter the 6 digits from the app to confirm.');
  });

  action('totpVerify', 'totpResult', async () => {
    const data = await api('/totp/verify', { userId: userId(), token: $('totpCode').value.trim() });
    if (data.verified) return show('totpResult', 'ok', 'Code accepted: TOTP is confirmed for this user.');
    const wait = data.retryAfter ? ` Wait ${data.retryAfter} s before the next try.` : '';
    show('totpResult', 'fail', `Code refused: it is not the current code for user "${userId()}". Enter the code the app shows now (it changes every 30 s) for this account, and check the phone's clock.${wait}`);
  });

  // Passkeys
  /** The browser only creates or uses a passkey for the tenant's RP id on a page of that domain. */
  const checkRpId = (publicKey) => {
    const rpId = (publicKey.rp && publicKey.rp.id) || publicKey.rpId;
    const host = location.hostname;
    if (isIpAddress(host)) throw new Error(ipHint());
    if (rpId && host !== rpId && !host.endsWith(`.${rpId}`)) {
      throw new Error(`this page is on ${host}, but the tenant's passkeys belong to ${rpId}: open the demo on ${rpId}, or set SECUREKEY_PUBLIC_URL (or the tenant's webauthnRpId and webauthnOrigins) to this address.`);
    }
  };
  const explainBrowserError = (err) => {
    if (err && (err.name === 'SecurityError' || /invalid domain/i.test(err.message || ''))) return new Error(`${err.message}. ${ipHint()}`);
    if (err && err.name === 'NotAllowedError') return new Error(`${err.message} (cancelled, timed out, or no passkey for this site on this device)`);
    return err;
  };

  action('passkeyRegister', 'passkeyResult', async () => {
    if (!browserSupportsWebAuthn()) throw new Error('this browser does not support passkeys (WebAuthn)');
    const user = userId();
    if (!user) throw new Error('enter a user id to register a passkey');
    const options = await api('/webauthn/register/options', { userId: user, userName: user });
    checkRpId(options.publicKey);
    const credential = await startRegistration({ optionsJSON: options.publicKey }).catch((e) => Promise.reject(explainBrowserError(e)));
    const data = await api('/webauthn/register/verify', { userId: user, deviceName: $('deviceName').value.trim(), ...credential });
    if (!data.verified) throw new Error('the server did not accept the passkey');
    show('passkeyResult', 'ok', `Passkey registered (credential ${data.credentialId.slice(0, 12)}…).`);
  });

  action('passkeySignIn', 'passkeyResult', async () => {
    if (!browserSupportsWebAuthn()) throw new Error('this browser does not support passkeys (WebAuthn)');
    const user = userId();
    const options = await api('/webauthn/authenticate/options', user ? { userId: user } : {});
    checkRpId(options.publicKey);
    const assertion = await startAuthentication({ optionsJSON: options.publicKey }).catch((e) => Promise.reject(explainBrowserError(e)));
    const data = await api('/webauthn/authenticate/verify', user ? { userId: user, ...assertion } : assertion);
    if (data.verified) show('passkeyResult', 'ok', `Signed in as ${data.userId} with a passkey.`);
    else show('passkeyResult', 'fail', 'Sign-in refused.');
  });

  // SMS or email one-time codes
  const otpTarget = () => {
    const to = $('otpTo').value.trim();
    return to.includes('@') ? { path: '/email-otp', body: { email: to } } : { path: '/otp', body: { phone: to } };
  };

  action('otpSend', 'otpResult', async () => {
    const { path, body } = otpTarget();
    const data = await api(`${path}/send`, { ...body, purpose: 'login', userId: userId() || undefined });
    show('otpResult', 'sent', `Code sent to ${data.to}; it expires in ${data.expiresIn} s. A new code can be sent after ${data.resendAfter} s.`);
  });

  action('otpVerify', 'otpResult', async () => {
    const { path, body } = otpTarget();
    const data = await api(`${path}/verify`, { ...body, code: $('otpCode').value.trim() });
    if (data.verified) show('otpResult', 'ok', 'Code accepted.');
    else show('otpResult', 'fail', `Wrong code: ${data.attemptsRemaining} attempt${data.attemptsRemaining === 1 ? '' : 's'} left for this code.`);
  });

  // Push approval
  let push; // the last request sent: { requestId, number? }
  action('pushRegister', 'pushResult', async () => {
    const data = await api('/push/devices', { userId: userId(), fcmToken: $('pushToken').value.trim(), platform: 'web', deviceName: 'Demo page' });
    show('pushResult', 'ok', `Device registered (${data.deviceId}).`);
  });

  action('pushSend', 'pushResult', async () => {
    push = await api('/push/send', { userId: userId(), title: $('pushTitle').value.trim() });
    const matching = push.number ? ` The login screen shows ${push.number}: the user picks it on the device.` : '';
    show('pushResult', 'sent', `Push sent (request ${push.requestId}, ${push.status}).${matching}`);
  });

  const respond = (action) => async () => {
    if (!push) throw new Error('send a push first');
    const data = await api('/push/respond', { requestId: push.requestId, action, ...(push.number ? { number: push.number } : {}) });
    show('pushResult', 'sent', `The device answered: ${data.status}. Now check the result.`);
  };
  action('pushApprove', 'pushResult', respond('approve'));
  action('pushDeny', 'pushResult', respond('deny'));

  action('pushCheck', 'pushResult', async () => {
    if (!push) throw new Error('send a push first');
    const data = await api('/push/verify', { requestId: push.requestId, userId: userId() });
    show('pushResult', data.verified ? 'ok' : 'fail', `verified: ${data.verified} (status ${data.status})`);
  });

  // Recovery codes: shown once, then gone from the page too.
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const showCodes = (codes) => {
    $('recoveryCodes').replaceChildren(...codes.map((c) => Object.assign(document.createElement('li'), { textContent: c })));
    $('recoveryShown').hidden = false;
    show('recoveryResult', 'sent', `${plural(codes.length, 'code')} generated. Each works once.`);
  };
  action('recoveryGenerate', 'recoveryResult', async () => showCodes((await api('/recovery/generate', { userId: userId() })).codes));
  action('recoveryRegenerate', 'recoveryResult', async () => showCodes((await api('/recovery/generate', { userId: userId(), replace: true })).codes));
  $('recoverySaved').addEventListener('click', () => {
    $('recoveryCodes').replaceChildren();
    $('recoveryShown').hidden = true;
  });

  action('recoveryVerify', 'recoveryResult', async () => {
    const data = await api('/recovery/verify', { userId: userId(), code: $('recoveryCode').value });
    const left = `${plural(data.remaining, 'code')} left${data.remaining <= 2 ? ': time to generate a new set' : ''}.`;
    if (data.verified) return show('recoveryResult', 'ok', `Code accepted; ${left}`);
    const wait = data.retryAfter ? ` Wait ${data.retryAfter} s before the next try.` : '';
    show('recoveryResult', 'fail', `Code refused: it is not an unused code of user "${userId()}"'s current set (each code works once). ${left}${wait}`);
  });

  action('recoveryStatus', 'recoveryResult', async () => {
    const data = await api('/recovery/status', { userId: userId() });
    show('recoveryResult', data.enrolled ? 'ok' : 'fail', data.enrolled ? `${data.remaining} of ${data.total} codes left.` : `User "${userId()}" has no recovery codes.`);
  });
})();
