// @simplewebauthn/server, loaded at the first passkey call: a server whose tenants use no passkeys
// never holds it in memory (about 12 MB resident). Same names and signatures as the library's.
type Library = typeof import('@simplewebauthn/server');

let loading: Promise<Library> | undefined;
const library = () => (loading ??= import('@simplewebauthn/server'));

export const generateRegistrationOptions = async (...args: Parameters<Library['generateRegistrationOptions']>) => (await library()).generateRegistrationOptions(...args);
export const verifyRegistrationResponse = async (...args: Parameters<Library['verifyRegistrationResponse']>) => (await library()).verifyRegistrationResponse(...args);
export const generateAuthenticationOptions = async (...args: Parameters<Library['generateAuthenticationOptions']>) => (await library()).generateAuthenticationOptions(...args);
export const verifyAuthenticationResponse = async (...args: Parameters<Library['verifyAuthenticationResponse']>) => (await library()).verifyAuthenticationResponse(...args);
