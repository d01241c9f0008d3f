// The one stream-name helper of the OTP aggregate: one stream per (tenant, channel, destination),
// `otp-<tenantId>.<channel>.<destinationHash>` where destinationHash = keyring.hmac('destination',
// normalised destination). No phone number or address ever appears in a stream name.
import type { OtpChannel } from './events.ts';

export const OTP_CATEGORY = 'otp';

export const otpStream = (tenantId: string, channel: OtpChannel, destinationHash: string): string =>
  `${OTP_CATEGORY}-${tenantId}.${channel}.${destinationHash}`;

/** The inverse of otpStream (null for another category). The tenant id may itself contain dots. */
export const parseOtpStream = (stream: string): { tenantId: string; channel: OtpChannel; destinationHash: string } | null => {
  const prefix = `${OTP_CATEGORY}-`;
  if (!stream.startsWith(prefix)) return null;
  const parts = stream.slice(prefix.length).split('.');
  if (parts.length < 3) return null;
  const destinationHash = parts.pop() as string;
  const channel = parts.pop() as string;
  if (channel !== 'sms' && channel !== 'email') return null;
  return { tenantId: parts.join('.'), channel, destinationHash };
};
