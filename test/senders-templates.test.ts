import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderOtpEmail, renderOtpSms, resolveLocale } from '../src/senders/templates.ts';

test('SMS: Korean by default, with the purpose and lifetime', () => {
  assert.equal(renderOtpSms({ code: '123456', purpose: 'login', ttlSeconds: 180 }), '[SecureKey] 로그인 인증번호는 123456 입니다. 3분 안에 입력해 주세요.');
});

test('SMS: English for "en" and "en-US"; an unknown purpose gets the generic wording', () => {
  const text = 'Your verification code is 123456. It expires in 90 seconds.';
  assert.equal(renderOtpSms({ code: '123456', purpose: 'kyc', locale: 'en-US', ttlSeconds: 90, brandName: 'Acme' }), `[Acme] ${text}`);
  assert.equal(renderOtpSms({ code: '123456', purpose: 'payment', locale: 'en', ttlSeconds: 60 }), '[SecureKey] Your payment code is 123456. It expires in 1 minute.');
});

test('SMS: ends with the WebOTP origin-bound line when the tenant set a domain', () => {
  const text = renderOtpSms({ code: '482913', purpose: 'login', ttlSeconds: 180, webOtpDomain: 'Shop.Example.com' });
  assert.equal(text.split('\n').at(-1), '@shop.example.com #482913');
  assert.ok(!renderOtpSms({ code: '1', purpose: 'login', ttlSeconds: 180, webOtpDomain: 'bad domain/x' }).includes('@'));
});

test('email: subject per locale, text and HTML hold the code, brand is HTML-escaped', () => {
  const ko = renderOtpEmail({ code: '654321', purpose: 'password_reset', ttlSeconds: 300, brandName: '<b>Shop</b>' });
  assert.equal(ko.subject, '[<b>Shop</b>] 비밀번호 재설정 인증번호');
  assert.match(ko.text, /비밀번호 재설정 인증번호는 654321 입니다\. 5분 안에/);
  assert.match(ko.html, /654321/);
  assert.ok(ko.html.includes('&lt;b&gt;Shop&lt;/b&gt;') && !ko.html.includes('<b>Shop'));
  assert.equal(renderOtpEmail({ code: '1', purpose: 'login', locale: 'en', ttlSeconds: 180 }).subject, '[SecureKey] Your sign-in code');
});

test('locale resolution falls back to Korean', () => {
  assert.equal(resolveLocale(undefined), 'ko');
  assert.equal(resolveLocale('fr'), 'ko');
  assert.equal(resolveLocale('EN-gb'), 'en');
});
