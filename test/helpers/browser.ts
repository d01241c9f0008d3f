// Debian's chromium driven by playwright-core, with a CDP virtual authenticator that performs
// real WebAuthn ceremonies (ctap2, platform, resident keys, user verification).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing = (): string | undefined =>
  existsSync(CHROMIUM_PATH)
    ? undefined
    : `chromium not installed: ${CHROMIUM_PATH} is missing (npm test's pretest installs it with apt-get when run as root on Debian; or: apt-get install -y chromium)`;

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

export type VirtualAuthenticator = {
  cdp: CDPSession;
  authenticatorId: string;
  /** The credentials the authenticator holds (id, rpId, signCount, isResidentCredential, ...). */
  credentials: () => Promise<{ credentialId: string; rpId?: string; signCount: number; isResidentCredential: boolean }[]>;
};

/** Attaches a virtual platform authenticator to the page: create() and get() succeed without UI. */
export const addVirtualAuthenticator = async (page: Page): Promise<VirtualAuthenticator> => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
};
