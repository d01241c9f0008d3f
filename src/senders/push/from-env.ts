// Chooses the push sender from the environment (an env object, so tests need not touch process.env):
//   SECUREKEY_PUSH_SENDER        fcm | console (default: fcm when credentials are configured, else console)
//   SECUREKEY_FCM_CREDENTIALS    path to a service-account JSON file (else GOOGLE_APPLICATION_CREDENTIALS)
//   SECUREKEY_FCM_PROJECT_ID     Firebase project id (default: project_id of the credentials file,
//                                then GOOGLE_CLOUD_PROJECT)
// firebase-admin is loaded only when FCM is chosen (it holds megabytes of code in memory).
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import type { Credential } from 'firebase-admin/app';
import { createConsoleSender } from './console.ts';
import type { PushLog, PushSender } from './port.ts';

export type PushEnv = Record<string, string | undefined>;

const readJson = (path: string): Record<string, unknown> => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`push: cannot read the Firebase credentials file ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
};

export const createPushSenderFromEnv = async (env: PushEnv, opts: { log?: PushLog; httpAgent?: Agent } = {}): Promise<PushSender> => {
  const kind = env.SECUREKEY_PUSH_SENDER?.trim().toLowerCase();
  if (kind && kind !== 'fcm' && kind !== 'console') throw new Error(`SECUREKEY_PUSH_SENDER: expected fcm or console, got ${JSON.stringify(kind)}`);
  const file = env.SECUREKEY_FCM_CREDENTIALS || env.GOOGLE_APPLICATION_CREDENTIALS;
  if (kind === 'console' || (!kind && !file)) return createConsoleSender({ log: opts.log });
  if (!file) throw new Error('SECUREKEY_PUSH_SENDER=fcm needs SECUREKEY_FCM_CREDENTIALS or GOOGLE_APPLICATION_CREDENTIALS');
  const json = readJson(file);
  const [{ applicationDefault, cert, refreshToken }, { createFcmSender }] = await Promise.all([import('firebase-admin/app'), import('./fcm.ts')]);
  const credential: Credential =
    json.type === 'service_account' ? cert(json as Parameters<typeof cert>[0], opts.httpAgent)
    : json.type === 'authorized_user' ? refreshToken(json, opts.httpAgent)
    : applicationDefault(opts.httpAgent);
  const projectId = env.SECUREKEY_FCM_PROJECT_ID || (json.project_id as string | undefined) || (json.quota_project_id as string | undefined) || env.GOOGLE_CLOUD_PROJECT;
  if (!projectId) throw new Error('push: set SECUREKEY_FCM_PROJECT_ID (the credentials file names no project)');
  return createFcmSender({ projectId, credential, httpAgent: opts.httpAgent, log: opts.log });
};
