"""The SDK without a SecureKey server: retries, timeouts and error parsing against a local HTTP
peer that misbehaves on purpose, request by request; JSON mapping; webhook signatures."""
import asyncio
import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest
from datetime import datetime, timezone

from two_factor_service import (
    PushSendOptions,
    SecureKeyError,
    SendSmsOtpOptions,
    TotpVerifyOptions,
    TwoFactorClient,
    VerifyResult,
    WebhookVerificationError,
    verify_webhook,
    verify_webhook_signature,
    verify_webhook_signature_v2,
)
from two_factor_service._transport import api_root
from two_factor_service.models import PushSendResult, from_json, to_json


class ScriptedPeer:
    """Answers request n with script[n]: "reset", "503", "429", "hang", "mfa" or "ok"."""

    def __init__(self, script):
        self.script = list(script)
        self.seen = []
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                peer.seen.append((self.path, json.loads(body or b"{}"), self.headers.get("X-API-Key")))
                step = peer.script[len(peer.seen) - 1] if len(peer.seen) <= len(peer.script) else "ok"
                if step == "reset":
                    self.close_connection = True
                    return
                if step == "hang":
                    time.sleep(1.0)
                    return
                status, envelope, headers = {
                    "503": (503, {"success": False, "error": "store unavailable", "code": "UNAVAILABLE"}, {"Retry-After": "0"}),
                    "429": (429, {"success": False, "error": "slow down", "code": "RATE_LIMITED"}, {"Retry-After": "42"}),
                    "mfa": (403, {"success": False, "error": "more needed", "code": "MFA_REQUIRED", "requiredChannels": ["totp"], "matchedPolicies": ["결제 시 추가 인증"]}, {}),
                    "ok": (200, {"success": True, "message": "ok", "data": {"verified": False, "status": "pending"}}, {}),
                }[step]
                raw = json.dumps(envelope).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Retries(unittest.IsolatedAsyncioTestCase):
    def peer(self, *script):
        p = ScriptedPeer(script)
        self.addCleanup(p.close)
        return p

    async def test_idempotent_poll_is_retried_after_a_reset_and_a_503(self):
        p = self.peer("reset", "503", "ok")
        result = await TwoFactorClient(api_key="2fa_k", base_url=p.url).push.verify("pr_1")
        self.assertEqual((result.verified, result.status), (False, "pending"))
        self.assertEqual([s[0] for s in p.seen], ["/api/v1/push/verify"] * 3)
        self.assertEqual(p.seen[0][1], {"requestId": "pr_1"})
        self.assertEqual(p.seen[0][2], "2fa_k")

    async def test_webauthn_options_are_retried(self):
        p = self.peer("503", "ok")
        await TwoFactorClient(api_key="2fa_k", base_url=p.url).webauthn.authenticate_start()
        self.assertEqual(len(p.seen), 2)

    async def test_sends_are_never_retried(self):
        p = self.peer("reset", "503")
        client = TwoFactorClient(api_key="2fa_k", base_url=p.url)
        with self.assertRaises(SecureKeyError) as ctx:
            await client.sms.send(SendSmsOtpOptions(phone="01012345678", purpose="login"))
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("NETWORK_ERROR", 0))
        with self.assertRaises(SecureKeyError) as ctx:
            await client.push.send(PushSendOptions(user_id="u", title="t"))
        self.assertEqual((ctx.exception.code, ctx.exception.status, ctx.exception.retry_after), ("UNAVAILABLE", 503, 0))
        self.assertEqual(len(p.seen), 2)

    async def test_network_errors_name_the_url_and_the_cause(self):
        import socket

        with socket.socket() as s:  # a port nothing listens on once closed
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        client = TwoFactorClient(api_key="2fa_k", base_url=f"http://127.0.0.1:{port}", retries=0)
        with self.assertRaises(SecureKeyError) as ctx:
            await client.sms.send(SendSmsOtpOptions(phone="01012345678", purpose="login"))
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("NETWORK_ERROR", 0))
        self.assertIn(f"could not reach SecureKey at http://127.0.0.1:{port}/api/v1/otp/send: ", str(ctx.exception))
        self.assertIn("refused", str(ctx.exception).lower())

    async def test_429_is_never_retried_and_retry_after_comes_from_the_header(self):
        p = self.peer("429", "ok")
        with self.assertRaises(SecureKeyError) as ctx:
            await TwoFactorClient(api_key="2fa_k", base_url=p.url).push.verify("pr_1")
        self.assertEqual((ctx.exception.code, ctx.exception.status, ctx.exception.retry_after), ("RATE_LIMITED", 429, 42))
        self.assertEqual(len(p.seen), 1)

    async def test_retries_are_bounded_and_can_be_switched_off(self):
        p = self.peer("503", "503", "503", "503")
        with self.assertRaises(SecureKeyError):
            await TwoFactorClient(api_key="2fa_k", base_url=p.url, retries=1).push.verify("pr_1")
        self.assertEqual(len(p.seen), 2)
        with self.assertRaises(SecureKeyError):
            await TwoFactorClient(api_key="2fa_k", base_url=p.url, retries=0).push.verify("pr_1")
        self.assertEqual(len(p.seen), 3)

    async def test_timeout_is_reported_and_not_retried(self):
        p = self.peer("hang", "hang")
        started = time.monotonic()
        with self.assertRaises(SecureKeyError) as ctx:
            await TwoFactorClient(api_key="2fa_k", base_url=p.url, timeout=0.2).push.verify("pr_1")
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("TIMEOUT", 0))
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertEqual(len(p.seen), 1)

    async def test_mfa_envelope_fills_the_error(self):
        p = self.peer("mfa")
        with self.assertRaises(SecureKeyError) as ctx:
            await TwoFactorClient(api_key="2fa_k", base_url=p.url).totp.verify(TotpVerifyOptions(user_id="u", code="123456"))
        e = ctx.exception
        self.assertEqual((e.code, e.status, e.required_channels, e.matched_policies), ("MFA_REQUIRED", 403, ["totp"], ["결제 시 추가 인증"]))
        self.assertEqual(p.seen[0][1], {"userId": "u", "code": "123456"})

    async def test_the_client_runs_calls_concurrently(self):
        p = self.peer()
        client = TwoFactorClient(api_key="2fa_k", base_url=p.url)
        results = await asyncio.gather(*(client.push.verify(f"pr_{i}") for i in range(5)))
        self.assertEqual(len(results), 5)


class Mapping(unittest.TestCase):
    def test_base_url_root_or_api_v1_and_refusals(self):
        for url in ("https://sk.example.com", "https://sk.example.com/", "https://sk.example.com/api/v1", "https://sk.example.com/api/v1/"):
            self.assertEqual(api_root(url), "https://sk.example.com/api/v1")
        for bad in ("sk.example.com", "ftp://sk.example.com", ""):
            with self.assertRaises(ValueError):
                TwoFactorClient(api_key="2fa_k", base_url=bad)
        with self.assertRaises(ValueError):
            TwoFactorClient(api_key="", base_url="https://sk.example.com")

    def test_options_are_sent_in_camel_case_without_unset_fields(self):
        self.assertEqual(to_json(SendSmsOtpOptions(phone="01012345678", purpose="login")), {"phone": "01012345678", "purpose": "login"})
        self.assertEqual(to_json(SendSmsOtpOptions(phone="x", user_id="u")), {"phone": "x", "userId": "u"})

    def test_results_ignore_unknown_fields_and_parse_times(self):
        r = from_json(PushSendResult, {"requestId": "pr_1", "expiresAt": "2026-11-26T14:43:47.975123456Z", "status": "pending", "newField": 1})
        self.assertEqual(r.request_id, "pr_1")
        self.assertEqual(r.expires_at, datetime(2026, 11, 26, 14, 43, 47, 975123, tzinfo=timezone.utc))
        self.assertEqual(from_json(VerifyResult, {"verified": True}), VerifyResult(verified=True))


class Webhooks(unittest.TestCase):
    secret = "whsec_test_0123456789"
    raw = json.dumps({"event": "verification.succeeded", "channel": "sms", "data": {"externalUserId": "user_123"}}, separators=(",", ":")).encode()

    def test_signature_is_what_the_seed_receiver_computes(self):
        expected = "sha256=" + hmac.new(self.secret.encode(), self.raw, hashlib.sha256).hexdigest()
        self.assertTrue(verify_webhook_signature(self.raw, expected, self.secret))
        self.assertTrue(verify_webhook_signature(self.raw.decode(), expected, self.secret))
        self.assertFalse(verify_webhook_signature(self.raw + b" ", expected, self.secret))
        self.assertFalse(verify_webhook_signature(self.raw, expected, "other"))
        self.assertFalse(verify_webhook_signature(self.raw, expected[:-1], self.secret))
        self.assertFalse(verify_webhook_signature(self.raw, None, self.secret))
        self.assertFalse(verify_webhook_signature(self.raw, expected, ""))

    def test_v2_signature_and_stale_timestamps(self):
        t = 1_800_000_000
        sig = lambda s: hmac.new(s.encode(), f"{t}.".encode() + self.raw, hashlib.sha256).hexdigest()  # noqa: E731
        header = f"t={t},v1={sig(self.secret)},v1={sig('previous')}"
        self.assertTrue(verify_webhook_signature_v2(self.raw, header, self.secret, now=t + 10))
        self.assertTrue(verify_webhook_signature_v2(self.raw, header, "previous", now=t + 10))
        self.assertFalse(verify_webhook_signature_v2(self.raw, header, "third", now=t + 10))
        self.assertFalse(verify_webhook_signature_v2(self.raw, header, self.secret, now=t + 301))
        self.assertFalse(verify_webhook_signature_v2(self.raw, header.replace(f"t={t}", f"t={t + 1}"), self.secret, now=t))

    def test_verify_webhook_is_v2_then_the_payload(self):
        t = 1_800_000_000
        sig = hmac.new(self.secret.encode(), f"{t}.".encode() + self.raw, hashlib.sha256).hexdigest()
        headers = {"X-SecureKey-Signature-V2": f"t={t},v1={sig}"}
        self.assertEqual(verify_webhook(self.raw, headers, self.secret, now=t + 5)["data"]["externalUserId"], "user_123")
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(self.raw, headers, self.secret, now=t + 3600)  # a replay of an old delivery
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(self.raw, {}, self.secret, now=t)


if __name__ == "__main__":
    unittest.main()
