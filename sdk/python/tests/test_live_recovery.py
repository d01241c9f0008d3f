"""Recovery codes through the SDK against a live server: generate shows the codes once, each
works once however it is typed, status counts what is left, regenerate replaces the whole set,
delete ends it; a wrong or used code is an answer, not an error."""
import re
import unittest

from two_factor_service import (
    RecoveryDeleteOptions,
    RecoveryGenerateOptions,
    RecoveryStatusOptions,
    RecoveryVerifyOptions,
    SecureKeyError,
    TwoFactorClient,
)

from .live import API_KEY, URL, requires_live_server

CODE = re.compile(r"^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$")


@requires_live_server
class LiveRecovery(unittest.IsolatedAsyncioTestCase):
    async def test_generate_verify_status_regenerate_delete(self):
        client = TwoFactorClient(api_key=API_KEY, base_url=URL)
        user_id = "user_recovery_py"
        generated = await client.recovery.generate(RecoveryGenerateOptions(user_id=user_id))
        self.assertEqual(len(generated.codes), 10)
        self.assertEqual(generated.remaining, 10)
        for code in generated.codes:
            self.assertRegex(code, CODE)

        used = await client.recovery.verify(RecoveryVerifyOptions(user_id=user_id, code=generated.codes[0].upper().replace("-", " ")))
        self.assertEqual((used.verified, used.remaining, used.retry_after), (True, 9, 0))
        again = await client.recovery.verify(RecoveryVerifyOptions(user_id=user_id, code=generated.codes[0]))
        self.assertEqual((again.verified, again.remaining), (False, 9))

        status = await client.recovery.status(RecoveryStatusOptions(user_id=user_id))
        self.assertEqual((status.enrolled, status.remaining, status.total), (True, 9, 10))
        self.assertIsNotNone(status.generated_at)

        with self.assertRaises(SecureKeyError) as ctx:
            await client.recovery.generate(RecoveryGenerateOptions(user_id=user_id))
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("ALREADY_ENROLLED", 409))
        fresh = await client.recovery.regenerate(RecoveryGenerateOptions(user_id=user_id))
        self.assertIs((await client.recovery.verify(RecoveryVerifyOptions(user_id=user_id, code=generated.codes[1]))).verified, False)
        self.assertIs((await client.recovery.verify(RecoveryVerifyOptions(user_id=user_id, code=fresh.codes[1]))).verified, True)

        self.assertIs((await client.recovery.delete(RecoveryDeleteOptions(user_id=user_id))).deleted, True)
        with self.assertRaises(SecureKeyError) as ctx:
            await client.recovery.verify(RecoveryVerifyOptions(user_id=user_id, code=fresh.codes[2]))
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("NOT_ENROLLED", 404))
        gone = await client.recovery.status(RecoveryStatusOptions(user_id=user_id))
        self.assertEqual((gone.enrolled, gone.remaining, gone.generated_at), (False, 0, None))


if __name__ == "__main__":
    unittest.main()
