"""The seed's Python snippets, with only the API key and base URL changed, against a live
server. Codes come from where a real integration test finds them: the SMS gateway, the SMTP
server, the TOTP secret, the (stand-in) browser's passkey."""
import asyncio
import unittest

from two_factor_service import (
    TwoFactorClient, SendSmsOtpOptions, VerifySmsOtpOptions
)

from .live import API_KEY, URL, browser_create, browser_get, last_code, requires_live_server, totp_now


@requires_live_server
class SeedSmsSnippet(unittest.TestCase):
    def test_sms_otp(self):
        client = TwoFactorClient(
            api_key=API_KEY,
            base_url=URL
        )
        seen = {}

        async def main():
            # SMS 발송
            result = await client.sms.send(SendSmsOtpOptions(
                phone="01012345678", purpose="login"
            ))
            # SMS 검증 — 결과는 VerifyResult dataclass
            verify = await client.sms.verify(VerifySmsOtpOptions(
                phone="01012345678", code=last_code("+821012345678")
            ))
            print(verify.verified)  # True
            seen.update(result=result, verify=verify)

        asyncio.run(main())
        self.assertIs(seen["verify"].verified, True)
        self.assertEqual(seen["result"].to, "+82 10-****-5678")
        self.assertEqual(seen["result"].expires_in, 180)
        self.assertEqual(seen["result"].resend_after, 30)


@requires_live_server
class SeedSnippets(unittest.IsolatedAsyncioTestCase):
    async def test_totp(self):
        client = TwoFactorClient(api_key=API_KEY, base_url=URL)
        # async 함수 내에서 사용
        from two_factor_service import TotpSetupOptions, TotpVerifyOptions
        # TOTP 설정 — 결과는 TotpSetupResult dataclass
        setup = await client.totp.setup(TotpSetupOptions(
            user_id="user_123", account_name="user@example.com"
        ))
        # setup.uri → otpauth:// URI
        # setup.qr_code_data_url → QR 코드 이미지
        self.assertTrue(setup.uri.startswith("otpauth://totp/"))
        self.assertTrue(setup.qr_code_data_url.startswith("data:image/png;base64,"))
        # TOTP 검증
        verify = await client.totp.verify(TotpVerifyOptions(
            user_id="user_123", code=totp_now(setup.secret)
        ))
        self.assertIs(verify.verified, True)

    async def test_email_otp(self):
        client = TwoFactorClient(api_key=API_KEY, base_url=URL)
        # async 함수 내에서 사용
        from two_factor_service import SendEmailOtpOptions, VerifyEmailOtpOptions
        # Email OTP 발송
        result = await client.email.send(SendEmailOtpOptions(
            email="user@example.com", purpose="login"
        ))
        # Email OTP 검증
        verify = await client.email.verify(VerifyEmailOtpOptions(
            email="user@example.com", code=last_code("user@example.com")
        ))
        print(verify.verified)  # True
        self.assertIs(verify.verified, True)
        self.assertEqual(result.to, "u***@example.com")

    async def test_webauthn(self):
        client = TwoFactorClient(api_key=API_KEY, base_url=URL)
        # async 함수 내에서 사용
        from two_factor_service import (
            WebAuthnRegisterStartOptions, WebAuthnRegisterFinishOptions,
            WebAuthnAuthenticateStartOptions, WebAuthnAuthenticateFinishOptions,
        )
        # 1. 등록 옵션 요청 — user_name 필수
        reg_options = await client.webauthn.register_start(
            WebAuthnRegisterStartOptions(
                user_id="user_123", user_name="user@example.com"
            )
        )
        # reg_options["publicKey"] → 브라우저에 전달
        credential = browser_create(reg_options["publicKey"])
        credential_response, credential_id, credential_raw_id = credential["response"], credential["id"], credential["rawId"]
        # 2. 등록 검증 — 브라우저 credential 필드 포함
        reg_result = await client.webauthn.register_finish(
            WebAuthnRegisterFinishOptions(
                user_id="user_123",
                response=credential_response,
                id=credential_id,
                raw_id=credential_raw_id,
                device_name="Chrome on MacOS"
            )
        )
        # 3. 인증 옵션 요청
        auth_options = await client.webauthn.authenticate_start(
            WebAuthnAuthenticateStartOptions(user_id="user_123")
        )
        assertion = browser_get(auth_options["publicKey"])
        assertion_response, assertion_id, assertion_raw_id = assertion["response"], assertion["id"], assertion["rawId"]
        # 4. 인증 검증
        auth_result = await client.webauthn.authenticate_finish(
            WebAuthnAuthenticateFinishOptions(
                user_id="user_123",
                response=assertion_response,
                id=assertion_id,
                raw_id=assertion_raw_id,
            )
        )
        self.assertIs(reg_result.verified, True)
        self.assertEqual(reg_result.credential_id, credential_id)
        self.assertIs(auth_result.verified, True)
        self.assertEqual(auth_result.user_id, "user_123")

    async def test_push(self):
        client = TwoFactorClient(api_key=API_KEY, base_url=URL)
        # async 함수 내에서 사용
        from two_factor_service import PushRegisterDeviceOptions, PushSendOptions
        # 1. 기기 등록
        await client.push.register_device(PushRegisterDeviceOptions(
            user_id="user_123",
            fcm_token="fcm_token_from_firebase",
            device_name="Galaxy S24",
            platform="android"
        ))
        # 2. Push 인증 요청 발송 — 결과는 PushSendResult dataclass
        push = await client.push.send(PushSendOptions(
            user_id="user_123",
            title="로그인 승인 요청",
            body="새로운 기기에서 로그인을 시도합니다."
        ))
        self.assertEqual(push.status, "pending")
        # (on the user's phone, the app approves)
        await client.push.respond(push.request_id, "approve")
        # 3. 결과 폴링 검증 — 결과는 PushVerifyResult dataclass
        result = await client.push.verify(push.request_id)
        print(result.verified)  # True
        self.assertIs(result.verified, True)
        self.assertEqual(result.status, "approved")


if __name__ == "__main__":
    unittest.main()
