// Message templates for one-time codes, per purpose and locale (ko default, en).
// The SMS ends with the WebOTP origin-bound line "@<domain> #<code>" when the tenant has set a
// domain, so browsers can offer the code for autofill on that site.

export type OtpLocale = 'ko' | 'en';

export type OtpMessageContext = {
  code: string;
  /** "login", "signup", "payment", "password_reset", ... (others use a generic wording). */
  purpose: string;
  /** "ko" (default), "en", or a tag such as "en-US". */
  locale?: string;
  ttlSeconds: number;
  /** Shown in brackets at the start of the SMS and in the email subject. Default "SecureKey". */
  brandName?: string;
  /** The tenant's site for the WebOTP line, e.g. "example.com". */
  webOtpDomain?: string;
};

export const resolveLocale = (locale?: string): OtpLocale => (locale?.trim().toLowerCase().startsWith('en') ? 'en' : 'ko');

const PURPOSES: Record<OtpLocale, Record<string, string>> = {
  ko: { login: '로그인', signin: '로그인', signup: '회원가입', register: '회원가입', payment: '결제', password_reset: '비밀번호 재설정', reset_password: '비밀번호 재설정', transaction: '거래' },
  en: { login: 'sign-in', signin: 'sign-in', signup: 'sign-up', register: 'sign-up', payment: 'payment', password_reset: 'password reset', reset_password: 'password reset', transaction: 'transaction' },
};

const label = (locale: OtpLocale, purpose: string): string | undefined => PURPOSES[locale][purpose.toLowerCase()];

const duration = (locale: OtpLocale, seconds: number): string => {
  const minutes = seconds / 60;
  if (Number.isInteger(minutes)) return locale === 'ko' ? `${minutes}분` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return locale === 'ko' ? `${seconds}초` : `${seconds} seconds`;
};

/** A host name (optionally with a port) — anything else is left out of the WebOTP line. */
const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/i;

export const webOtpLine = (domain: string | undefined, code: string): string | undefined =>
  domain && HOST.test(domain) ? `@${domain.toLowerCase()} #${code}` : undefined;

/** The one sentence with the code. Only `code` comes from outside: the rest is from the tables above (HTML-safe). */
const sentence = (ctx: OtpMessageContext, locale: OtpLocale, code = ctx.code): string => {
  const what = label(locale, ctx.purpose);
  const ttl = duration(locale, ctx.ttlSeconds);
  return locale === 'ko'
    ? `${what ? `${what} ` : ''}인증번호는 ${code} 입니다. ${ttl} 안에 입력해 주세요.`
    : `Your ${what ? `${what} ` : 'verification '}code is ${code}. It expires in ${ttl}.`;
};

export const renderOtpSms = (ctx: OtpMessageContext): string => {
  const locale = resolveLocale(ctx.locale);
  const text = `[${ctx.brandName || 'SecureKey'}] ${sentence(ctx, locale)}`;
  const line = webOtpLine(ctx.webOtpDomain, ctx.code);
  return line ? `${text}\n\n${line}` : text;
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);

export const renderOtpEmail = (ctx: OtpMessageContext): { subject: string; text: string; html: string } => {
  const locale = resolveLocale(ctx.locale);
  const brand = ctx.brandName || 'SecureKey';
  const what = label(locale, ctx.purpose);
  const subject = locale === 'ko' ? `[${brand}] ${what ? `${what} ` : ''}인증번호` : `[${brand}] Your ${what ? `${what} ` : 'verification '}code`;
  const ignore = locale === 'ko' ? '요청하지 않으셨다면 이 메일을 무시해 주세요.' : 'If you did not request this code, you can ignore this email.';
  const text = `${sentence(ctx, locale)}\n\n${ignore}\n\n— ${brand}\n`;
  const html = [
    '<!doctype html>',
    `<html lang="${locale}"><body style="font-family:sans-serif;line-height:1.5">`,
    `<p>${sentence(ctx, locale, `<strong style="font-size:1.5em;letter-spacing:0.2em">${escapeHtml(ctx.code)}</strong>`)}</p>`,
    `<p style="color:#666">${escapeHtml(ignore)}</p>`,
    `<p>— ${escapeHtml(brand)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
};
