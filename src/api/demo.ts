// The demo page (/demo/): enroll TOTP, register a passkey and sign in with it.
import type { ExtraRoute } from './app.ts';

export const createDemoRoute = (_opts: { enabled: boolean }): ExtraRoute => () => false;
