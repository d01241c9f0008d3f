// GENERATED from proto/securekey/v1 by `npm run generate:files` (scripts/generate/sdk-types.ts): do not edit.
// The proto3 JSON form of every message the SDK sends or receives (lowerCamelCase fields;
// Timestamp → RFC 3339 string, Struct → JSON object, int64 and bytes → string).

export type JsonValue = number | string | boolean | null | JsonObject | JsonValue[];
export type JsonObject = { [k: string]: JsonValue };

/** securekey.v1.SendSmsOtpRequest */
export type SendSmsOtpRequest = {
  phone: string;
  purpose: string;
  userId: string;
  locale: string;
};

/** securekey.v1.SendOtpResponse */
export type SendOtpResponse = {
  expiresIn: number;
  expiresAt?: string;
  resendAfter: number;
  to: string;
};

/** securekey.v1.VerifySmsOtpRequest */
export type VerifySmsOtpRequest = {
  phone: string;
  code: string;
};

/** securekey.v1.VerifyOtpResponse */
export type VerifyOtpResponse = {
  verified: boolean;
  attemptsRemaining: number;
};

/** securekey.v1.SendEmailOtpRequest */
export type SendEmailOtpRequest = {
  email: string;
  purpose: string;
  userId: string;
  locale: string;
};

/** securekey.v1.VerifyEmailOtpRequest */
export type VerifyEmailOtpRequest = {
  email: string;
  code: string;
};

/** securekey.v1.SetupTotpRequest */
export type SetupTotpRequest = {
  userId: string;
  accountName: string;
  issuer: string;
  replace: boolean;
};

/** securekey.v1.SetupTotpResponse */
export type SetupTotpResponse = {
  uri: string;
  qrCodeDataUrl: string;
  secret: string;
};

/** securekey.v1.VerifyTotpRequest */
export type VerifyTotpRequest = {
  userId: string;
  token: string;
  code: string;
  purpose: string;
};

/** securekey.v1.VerifyTotpResponse */
export type VerifyTotpResponse = {
  verified: boolean;
  retryAfter: number;
};

/** securekey.v1.DeleteTotpRequest */
export type DeleteTotpRequest = {
  userId: string;
};

/** securekey.v1.DeleteTotpResponse */
export type DeleteTotpResponse = {
  deleted: boolean;
};

/** securekey.v1.GenerateRecoveryCodesRequest */
export type GenerateRecoveryCodesRequest = {
  userId: string;
  replace: boolean;
};

/** securekey.v1.GenerateRecoveryCodesResponse */
export type GenerateRecoveryCodesResponse = {
  codes: string[];
  remaining: number;
};

/** securekey.v1.VerifyRecoveryCodeRequest */
export type VerifyRecoveryCodeRequest = {
  userId: string;
  code: string;
  purpose: string;
};

/** securekey.v1.VerifyRecoveryCodeResponse */
export type VerifyRecoveryCodeResponse = {
  verified: boolean;
  remaining: number;
  retryAfter: number;
};

/** securekey.v1.GetRecoveryStatusRequest */
export type GetRecoveryStatusRequest = {
  userId: string;
};

/** securekey.v1.GetRecoveryStatusResponse */
export type GetRecoveryStatusResponse = {
  enrolled: boolean;
  remaining: number;
  total: number;
  generatedAt?: string;
};

/** securekey.v1.DeleteRecoveryCodesRequest */
export type DeleteRecoveryCodesRequest = {
  userId: string;
};

/** securekey.v1.DeleteRecoveryCodesResponse */
export type DeleteRecoveryCodesResponse = {
  deleted: boolean;
};

/** securekey.v1.RegisterOptionsRequest */
export type RegisterOptionsRequest = {
  userId: string;
  userName: string;
  displayName: string;
};

/** securekey.v1.RegisterOptionsResponse */
export type RegisterOptionsResponse = {
  publicKey?: JsonObject;
};

/** securekey.v1.RegisterVerifyRequest */
export type RegisterVerifyRequest = {
  userId: string;
  id: string;
  rawId: string;
  type: string;
  response?: JsonObject;
  deviceName: string;
  clientExtensionResults?: JsonObject;
  authenticatorAttachment: string;
  credential?: JsonObject;
};

/** securekey.v1.RegisterVerifyResponse */
export type RegisterVerifyResponse = {
  verified: boolean;
  credentialId: string;
};

/** securekey.v1.AuthenticateOptionsRequest */
export type AuthenticateOptionsRequest = {
  userId: string;
};

/** securekey.v1.AuthenticateOptionsResponse */
export type AuthenticateOptionsResponse = {
  publicKey?: JsonObject;
};

/** securekey.v1.AuthenticateVerifyRequest */
export type AuthenticateVerifyRequest = {
  userId: string;
  id: string;
  rawId: string;
  type: string;
  response?: JsonObject;
  clientExtensionResults?: JsonObject;
  authenticatorAttachment: string;
  credential?: JsonObject;
  purpose: string;
};

/** securekey.v1.AuthenticateVerifyResponse */
export type AuthenticateVerifyResponse = {
  verified: boolean;
  credentialId: string;
  userId: string;
};

/** securekey.v1.ListCredentialsRequest */
export type ListCredentialsRequest = {
  userId: string;
};

/** securekey.v1.ListCredentialsResponse */
export type ListCredentialsResponse = {
  credentials: Credential[];
};

/** securekey.v1.Credential */
export type Credential = {
  credentialId: string;
  deviceName: string;
  transports: string[];
  aaguid: string;
  backedUp: boolean;
  createdAt?: string;
  lastUsedAt?: string;
};

/** securekey.v1.RemoveCredentialRequest */
export type RemoveCredentialRequest = {
  userId: string;
  credentialId: string;
};

/** securekey.v1.RemoveCredentialResponse */
export type RemoveCredentialResponse = {
  removed: boolean;
};

/** securekey.v1.RegisterDeviceRequest */
export type RegisterDeviceRequest = {
  userId: string;
  fcmToken: string;
  deviceName: string;
  platform: string;
};

/** securekey.v1.RegisterDeviceResponse */
export type RegisterDeviceResponse = {
  deviceId: string;
};

/** securekey.v1.ListDevicesRequest */
export type ListDevicesRequest = {
  userId: string;
};

/** securekey.v1.ListDevicesResponse */
export type ListDevicesResponse = {
  devices: Device[];
};

/** securekey.v1.Device */
export type Device = {
  deviceId: string;
  deviceName: string;
  platform: string;
  stale: boolean;
  registeredAt?: string;
};

/** securekey.v1.RemoveDeviceRequest */
export type RemoveDeviceRequest = {
  userId: string;
  deviceId: string;
};

/** securekey.v1.RemoveDeviceResponse */
export type RemoveDeviceResponse = {
  removed: boolean;
};

/** securekey.v1.SendPushRequest */
export type SendPushRequest = {
  userId: string;
  title: string;
  body: string;
  purpose: string;
};

/** securekey.v1.SendPushResponse */
export type SendPushResponse = {
  requestId: string;
  expiresAt?: string;
  status: string;
  number?: number;
};

/** securekey.v1.RespondPushRequest */
export type RespondPushRequest = {
  requestId: string;
  action: string;
  number: number;
  notMe: boolean;
};

/** securekey.v1.RespondPushResponse */
export type RespondPushResponse = {
  status: string;
};

/** securekey.v1.VerifyPushRequest */
export type VerifyPushRequest = {
  requestId: string;
  userId: string;
};

/** securekey.v1.VerifyPushResponse */
export type VerifyPushResponse = {
  verified: boolean;
  status: string;
};
