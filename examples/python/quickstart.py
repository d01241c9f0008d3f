"""SecureKey quickstart in Python with the SDK (securekey-two-factor): the seed's flow — an SMS
code, an email code, an authenticator app (TOTP), a passkey's registration options, a push approval.

    pip install securekey-two-factor
    SECUREKEY_URL=http://localhost:8080 SECUREKEY_API_KEY=2fa_... python3 quickstart.py
"""
import asyncio
import os
import sys

from two_factor_service import (
    PushRegisterDeviceOptions,
    PushSendOptions,
    SecureKeyError,
    SendEmailOtpOptions,
    SendSmsOtpOptions,
    TotpSetupOptions,
    TotpVerifyOptions,
    TwoFactorClient,
    VerifyEmailOtpOptions,
    VerifySmsOtpOptions,
    WebAuthnRegisterStartOptions,
)

API_KEY = os.environ.get("SECUREKEY_API_KEY")
BASE_URL = os.environ.get("SECUREKEY_URL", "http://localhost:8080")
PHONE = os.environ.get("SECUREKEY_PHONE", "01012345678")
EMAIL = os.environ.get("SECUREKEY_EMAIL", "user@example.com")
USER_ID = os.environ.get("SECUREKEY_USER_ID", "user_123")


def ask(prompt: str) -> str:
    print(prompt, end="", flush=True)
    return sys.stdin.readline().strip()


async def main(client: TwoFactorClient) -> None:
    # SMS: send, then verify the code the user typed.
    sms = await client.sms.send(SendSmsOtpOptions(phone=PHONE, purpose="login"))
    code = ask(f"SMS code sent to {sms.to}. Code: ")
    print("sms verified:", str((await client.sms.verify(VerifySmsOtpOptions(phone=PHONE, code=code))).verified).lower())

    # Email: the same with an address.
    mail = await client.email.send(SendEmailOtpOptions(email=EMAIL, purpose="login"))
    code = ask(f"Email code sent to {mail.to}. Code: ")
    print("email verified:", str((await client.email.verify(VerifyEmailOtpOptions(email=EMAIL, code=code))).verified).lower())

    # TOTP: enroll (show setup.qr_code_data_url as an image, or the URI), then confirm a code from the app.
    setup = await client.totp.setup(TotpSetupOptions(user_id=USER_ID, account_name=EMAIL))
    print(f"Add to an authenticator app: {setup.uri}")
    code = ask("Code from the app: ")
    print("totp verified:", str((await client.totp.verify(TotpVerifyOptions(user_id=USER_ID, code=code))).verified).lower())

    # Passkey: registration options for the browser (navigator.credentials.create({ publicKey })).
    reg = await client.webauthn.register_start(WebAuthnRegisterStartOptions(user_id=USER_ID, user_name=EMAIL))
    print(f"passkey options for {reg['publicKey']['rp']['id']}: challenge {reg['publicKey']['challenge']}")

    # Push: register the user's phone, send a request, poll its outcome.
    await client.push.register_device(PushRegisterDeviceOptions(user_id=USER_ID, fcm_token="fcm_token_from_firebase", device_name="Galaxy S24", platform="android"))
    push = await client.push.send(PushSendOptions(user_id=USER_ID, title="로그인 승인 요청", body="새로운 기기에서 로그인을 시도합니다."))
    ask(f"Push sent (request {push.request_id}). Approve it on the phone, then press Enter: ")
    print("push verified:", str((await client.push.verify(push.request_id)).verified).lower())


if __name__ == "__main__":
    if not API_KEY:
        sys.exit("Set SECUREKEY_API_KEY (npm run -s admin -- tenant create --name demo --json prints one).")
    try:
        asyncio.run(main(TwoFactorClient(api_key=API_KEY, base_url=BASE_URL)))
    except SecureKeyError as e:
        sys.exit(f"{e.code}: {e}")
