"""The SDK's dataclasses against the live server's OpenAPI document, which is generated from the
proto: every option field is a request field, and every result field is a response field (and
no response field is left out), so the Python SDK cannot drift from the proto unnoticed."""
import dataclasses
import unittest

from two_factor_service import models as m
from two_factor_service.models import camel

from .live import openapi, requires_live_server

# path → (options dataclass or None, result dataclass or None)
ROUTES = {
    "/api/v1/otp/send": (m.SendSmsOtpOptions, m.SendOtpResult),
    "/api/v1/otp/verify": (m.VerifySmsOtpOptions, m.VerifyResult),
    "/api/v1/email-otp/send": (m.SendEmailOtpOptions, m.SendOtpResult),
    "/api/v1/email-otp/verify": (m.VerifyEmailOtpOptions, m.VerifyResult),
    "/api/v1/totp/setup": (m.TotpSetupOptions, m.TotpSetupResult),
    "/api/v1/totp/verify": (m.TotpVerifyOptions, m.VerifyResult),
    "/api/v1/recovery/generate": (m.RecoveryGenerateOptions, m.RecoveryCodesResult),
    "/api/v1/recovery/verify": (m.RecoveryVerifyOptions, m.RecoveryVerifyResult),
    "/api/v1/recovery/status": (m.RecoveryStatusOptions, m.RecoveryStatusResult),
    "/api/v1/recovery/delete": (m.RecoveryDeleteOptions, m.RecoveryDeleteResult),
    "/api/v1/webauthn/register/options": (m.WebAuthnRegisterStartOptions, None),
    "/api/v1/webauthn/register/verify": (m.WebAuthnRegisterFinishOptions, m.WebAuthnVerifyResult),
    "/api/v1/webauthn/authenticate/options": (m.WebAuthnAuthenticateStartOptions, None),
    "/api/v1/webauthn/authenticate/verify": (m.WebAuthnAuthenticateFinishOptions, m.WebAuthnVerifyResult),
    "/api/v1/push/devices": (m.PushRegisterDeviceOptions, m.PushRegisterDeviceResult),
    "/api/v1/push/send": (m.PushSendOptions, m.PushSendResult),
    "/api/v1/push/respond": (None, m.PushRespondResult),
    "/api/v1/push/verify": (None, m.PushVerifyResult),
}


def json_fields(cls) -> set:
    return {camel(f.name) for f in dataclasses.fields(cls)}


@requires_live_server
class Contract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = openapi()

    def schema_properties(self, schema: dict) -> set:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return set(self.doc["components"]["schemas"][name]["properties"])

    def request_fields(self, path: str) -> set:
        op = self.doc["paths"][path]["post"]
        return self.schema_properties(op["requestBody"]["content"]["application/json"]["schema"])

    def response_fields(self, path: str) -> set:
        op = self.doc["paths"][path]["post"]
        return self.schema_properties(op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"])

    def test_every_option_field_is_a_request_field(self):
        for path, (options, _) in ROUTES.items():
            if options is not None:
                with self.subTest(path=path):
                    self.assertLessEqual(json_fields(options), self.request_fields(path))

    def test_result_fields_are_exactly_the_response_fields(self):
        # VerifyResult serves OTP and TOTP verification: it holds the union of both responses.
        union: dict = {}
        for path, (_, result) in ROUTES.items():
            if result is not None:
                union.setdefault(result, set()).update(self.response_fields(path))
        for result, fields in union.items():
            with self.subTest(result=result.__name__):
                self.assertEqual(json_fields(result), fields)


if __name__ == "__main__":
    unittest.main()
