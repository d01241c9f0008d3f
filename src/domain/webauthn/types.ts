// Passkeys (WebAuthn) per (tenant, user): messages and state. Credential ids and public keys are
// base64url; they identify an authenticator but are not secrets.
import type { Message } from '../decider.ts';

export const CHALLENGE_TTL_MS = 300_000;

export type ChallengeKind = 'registration' | 'authentication';

export type StoredCredential = {
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  backedUp: boolean;
  deviceType: 'singleDevice' | 'multiDevice';
  deviceName: string;
};

export type RegistrationChallengeIssued = Message<'RegistrationChallengeIssued', { challenge: string; expiresAt: number }>;
export type AuthenticationChallengeIssued = Message<'AuthenticationChallengeIssued', { challenge: string; expiresAt: number }>;
/** claimed: a discoverable sign-in's challenge, taken by a response whose signature checked out;
 * the outcome (used or clone suspected) is then recorded in the user's stream. */
export type ChallengeOutcome = 'registered' | 'authenticated' | 'failed' | 'clone_suspected' | 'claimed';
/** A challenge is used once, whatever the outcome; appended together with the outcome. */
export type ChallengeConsumed = Message<
  'ChallengeConsumed',
  { challenge: string; kind: ChallengeKind; outcome: ChallengeOutcome; at: number }
>;
export type CredentialRegistered = Message<'CredentialRegistered', StoredCredential & { at: number }>;
export type CredentialUsed = Message<'CredentialUsed', { credentialId: string; counter: number; backedUp: boolean; at: number }>;
export type CredentialCloneSuspected = Message<
  'CredentialCloneSuspected',
  { credentialId: string; storedCounter: number; receivedCounter: number; at: number }
>;
export type CredentialRemoved = Message<'CredentialRemoved', { credentialId: string; at: number }>;

export type WebAuthnEvent =
  | RegistrationChallengeIssued
  | AuthenticationChallengeIssued
  | ChallengeConsumed
  | CredentialRegistered
  | CredentialUsed
  | CredentialCloneSuspected
  | CredentialRemoved;

export type IssueChallenge = Message<'IssueChallenge', { kind: ChallengeKind; challenge: string; now: number }>;
/** The app ran @simplewebauthn/server; `outcome` is what it found. */
export type CompleteRegistration = Message<
  'CompleteRegistration',
  { challenge: string; now: number; outcome: { verified: true; credential: StoredCredential } | { verified: false } }
>;
/** challenge null: the challenge lived in a tenant-level stream (discoverable sign-in) and was
 * consumed there already. newCounter is the authenticator's signature counter. */
export type CompleteAuthentication = Message<
  'CompleteAuthentication',
  {
    challenge: string | null;
    credentialId: string;
    now: number;
    outcome: { verified: true; newCounter: number; backedUp: boolean } | { verified: false };
  }
>;
export type RemoveCredential = Message<'RemoveCredential', { credentialId: string; now: number }>;

export type WebAuthnCommand = IssueChallenge | CompleteRegistration | CompleteAuthentication | RemoveCredential;

export type CredentialView = StoredCredential & { createdAt: number; lastUsedAt: number | null };

export type WebAuthnState = {
  credentials: Record<string, CredentialView>;
  /** Challenges issued and not yet consumed (expired ones are pruned as new ones come). */
  challenges: Record<string, { kind: ChallengeKind; expiresAt: number }>;
};
