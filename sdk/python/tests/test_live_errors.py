"""Errors from a live server arrive as SecureKeyError with the server's code, HTTP status and
MFA details; a wrong code is an answer, not an error; refused sends are not retried; a real
webhook delivery passes the signature helpers."""
import asyncio
import json
import time
import unittest

from two_factor_service import (
    SecureKeyError,
    WebhookVerificationError,
    verify_webhook,
    verify_webhook_signature,
    verify_webhook_signature_v2,
    SendSmsOtpOptions,
    TwoFactorClient,
    VerifySmsOtpOptions,
)

from .live import API_KEY, MFA_API_KEY, URL, WEBHOOK_SECRET, last_code, messages_to, requires_live_server, webhooks


def wrong(code: str) -> str:
    return str((int(code) + 1) % 1_000_000).zfill(6)


@requires_live_server
class LiveErrors(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.client = TwoFactorClient(api_key=API_KEY, base_url=URL)

    async def test_unknown_key_is_unauthorized_401(self):
        client = TwoFactorClient(api_key="2fa_not_a_real_key", base_url=URL)
        with self.assertRaises(SecureKeyError) as ctx:
            await client.sms.send(SendSmsOtpOptions(phone="01012345678", purpose="login"))
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("UNAUTHORIZED", 401))

    async def test_domain_errors_carry_code_and_status(self):
        with self.assertRaises(SecureKeyError) as ctx:
            await self.client.sms.send(SendSmsOtpOptions(phone="123", purpose="login"))
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("INVALID_PHONE", 400))
        with self.assertRaises(SecureKeyError) as ctx:
            await self.client.sms.verify(VerifySmsOtpOptions(phone="01077770009", code="123456"))
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("OTP_NOT_FOUND", 404))
        with self.assertRaises(SecureKeyError) as ctx:
            await self.client.push.verify("pr_does_not_exist")
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("PUSH_NOT_FOUND", 404))

    async def test_wrong_code_is_an_answer_with_attempts_remaining(self):
        await self.client.sms.send(SendSmsOtpOptions(phone="01077770001", purpose="login"))
        verify = await self.client.sms.verify(VerifySmsOtpOptions(phone="01077770001", code=wrong(last_code("+821077770001"))))
        self.assertIs(verify.verified, False)
        self.assertEqual(verify.attempts_remaining, 4)

    async def test_mfa_required_carries_required_channels_and_matched_policies(self):
        client = TwoFactorClient(api_key=MFA_API_KEY, base_url=URL)
        await client.sms.send(SendSmsOtpOptions(phone="01077770002", purpose="payment", user_id="user_mfa"))
        with self.assertRaises(SecureKeyError) as ctx:
            await client.sms.verify(VerifySmsOtpOptions(phone="01077770002", code=last_code("+821077770002")))
        e = ctx.exception
        self.assertEqual((e.code, e.status), ("MFA_REQUIRED", 403))
        self.assertEqual(e.required_channels, ["totp"])
        self.assertEqual(e.matched_policies, ["결제 시 추가 인증"])

    async def test_a_refused_send_is_not_retried_and_gives_retry_after(self):
        await self.client.sms.send(SendSmsOtpOptions(phone="01077770003", purpose="login"))
        started = time.monotonic()
        with self.assertRaises(SecureKeyError) as ctx:
            await self.client.sms.send(SendSmsOtpOptions(phone="01077770003", purpose="login"))
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("RESEND_TOO_SOON", 429))
        self.assertTrue(0 < ctx.exception.retry_after <= 30, ctx.exception.retry_after)
        self.assertEqual(len(messages_to("+821077770003")), 1)


    async def test_a_real_webhook_delivery_passes_the_signature_helpers(self):
        await self.client.sms.send(SendSmsOtpOptions(phone="01077770004", purpose="login", user_id="user_hook_py"))
        verify = await self.client.sms.verify(VerifySmsOtpOptions(phone="01077770004", code=last_code("+821077770004")))
        self.assertIs(verify.verified, True)
        delivery = None
        for _ in range(400):
            delivery = next((w for w in webhooks() if json.loads(w["raw"])["data"].get("externalUserId") == "user_hook_py"), None)
            if delivery:
                break
            await asyncio.sleep(0.025)
        self.assertIsNotNone(delivery, "a webhook delivery arrived")
        raw, headers = delivery["raw"].encode("utf-8"), delivery["headers"]
        self.assertTrue(verify_webhook_signature(raw, headers["x-securekey-signature"], WEBHOOK_SECRET))
        self.assertTrue(verify_webhook_signature_v2(raw, headers["x-securekey-signature-v2"], WEBHOOK_SECRET))
        self.assertFalse(verify_webhook_signature(raw, headers["x-securekey-signature"], "not-the-secret"))
        # The default for receivers: V2 and the payload in one call.
        self.assertEqual(verify_webhook(raw, headers, WEBHOOK_SECRET)["data"]["externalUserId"], "user_hook_py")
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(raw.replace(b"user_hook_py", b"user_evil_py"), headers, WEBHOOK_SECRET)


if __name__ == "__main__":
    unittest.main()
