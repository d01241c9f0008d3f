// Destinations for one-time codes: phone numbers (libphonenumber-js, full metadata so that the
// number type is known) and email addresses. Pure functions; error messages never echo the input.
import { domainToASCII } from 'node:url';
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { DomainError } from './errors.ts';

export type NormalisedPhone = {
  /** E.164, e.g. "+821012345678". */
  e164: string;
  /** ISO 3166-1 alpha-2 region, e.g. "KR". */
  country: string;
  /** For display, e.g. "+82 10-****-5678". */
  masked: string;
};

export type NormalisedEmail = {
  /** Local part as given, domain lower-cased (IDNs in their ASCII form): where the mail goes. */
  address: string;
  /** The address compared case-insensitively (local part folded too): what identifies the
   * destination for its stream, cooldown and caps, so "User@" and "user@" are one mailbox. */
  key: string;
  /** For display, e.g. "u***@example.com". */
  masked: string;
};

const PHONE_TYPES = new Set(['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE']);

/** "+82" + national significant number → "+82 10-****-5678": the first two and last four digits stay. */
export const maskPhone = (countryCallingCode: string, nationalNumber: string): string => {
  const head = nationalNumber.slice(0, 2);
  const tail = nationalNumber.slice(-4);
  const hidden = Math.max(nationalNumber.length - head.length - tail.length, 1);
  return `+${countryCallingCode} ${head}-${'*'.repeat(hidden)}-${tail}`;
};

/** Masks an E.164 number when only the number is at hand (e.g. in a sender's log line). */
export const maskE164 = (e164: string): string => {
  const known = phones.get(`|${e164}`);
  if (known) return known.masked;
  const p = parsePhoneNumberFromString(e164, { extract: false });
  if (p) return maskPhone(p.countryCallingCode, p.nationalNumber);
  const digits = e164.replace(/\D/g, '');
  return `+${'*'.repeat(Math.max(digits.length - 4, 1))}${digits.slice(-4)}`;
};

/**
 * National form (01012345678, 010-1234-5678) in the default region, or E.164 (+821012345678).
 * Must be a valid mobile or fixed-line number. Throws DomainError('INVALID_PHONE').
 */
export const normalisePhone = (input: string, defaultRegion = 'KR'): NormalisedPhone => {
  const key = typeof input === 'string' && typeof defaultRegion === 'string' ? `${defaultRegion}|${input}` : undefined;
  const known = key === undefined ? undefined : phones.get(key);
  if (known) return known;
  const p = Object.freeze(parsePhone(input, defaultRegion));
  if (key !== undefined) {
    if (phones.size >= MAX_PHONES) phones.clear();
    phones.set(key, p);
    phones.set(`|${p.e164}`, p); // for maskE164 (the SMS sender's log line), without parsing again
  }
  return p;
};

/** Parsing a number with the full metadata is the costliest step of an OTP call, and the same
 * destination comes back (send, then verify, and the sender's log line): valid numbers parsed
 * lately are remembered (a pure function of its input; bounded). Keys: "region|input", and
 * "|e164" for maskE164. */
const phones = new Map<string, NormalisedPhone>();
const MAX_PHONES = 10_000;

const parsePhone = (input: string, defaultRegion: string): NormalisedPhone => {
  const region = defaultRegion.toUpperCase();
  if (!isSupportedCountry(region)) {
    throw new DomainError('INVALID_ARGUMENT', `expected a supported default region (ISO 3166 alpha-2 such as "KR"), got "${defaultRegion}"`);
  }
  const text = typeof input === 'string' ? input.trim() : '';
  if (text === '' || text.length > 40) {
    throw new DomainError('INVALID_PHONE', 'expected a phone number in national (01012345678) or E.164 (+821012345678) form');
  }
  const p = parsePhoneNumberFromString(text, { defaultCountry: region as CountryCode, extract: false });
  // With the full metadata, isValid() is getType() !== undefined (libphonenumber-js isValid.js):
  // a number of one of these types is valid, and the regular expressions run once, not twice.
  const type = p?.getType();
  if (!p || !p.country || !type || !PHONE_TYPES.has(type)) {
    throw new DomainError('INVALID_PHONE', 'expected a valid mobile or fixed-line number in national (01012345678) or E.164 (+821012345678) form; the value given is not one');
  }
  return { e164: p.number, country: p.country, masked: maskPhone(p.countryCallingCode, p.nationalNumber) };
};

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export const maskEmail = (address: string): string => {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  return `${local.length > 1 ? local[0] : ''}***@${address.slice(at + 1)}`;
};

/** Validates and normalises an address: the domain is lower-cased, the local part kept. Throws DomainError('INVALID_EMAIL'). */
export const normaliseEmail = (input: string): NormalisedEmail => {
  const invalid = () => new DomainError('INVALID_EMAIL', 'expected an email address such as user@example.com; the value given is not one');
  const text = typeof input === 'string' ? input.trim() : '';
  if (text.length === 0 || text.length > 254) throw invalid();
  const at = text.lastIndexOf('@');
  if (at <= 0) throw invalid();
  const local = text.slice(0, at);
  const domain = domainToASCII(text.slice(at + 1).toLowerCase());
  if (local.length > 64 || !LOCAL_PART.test(local) || domain === '' || domain.length > 253) throw invalid();
  const labels = domain.split('.');
  const tld = labels[labels.length - 1] ?? '';
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !/^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)) throw invalid();
  const address = `${local}@${domain}`;
  return { address, key: address.toLowerCase(), masked: maskEmail(address) };
};
