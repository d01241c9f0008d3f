"""TwoFactorClient: the seed's Python SDK surface over the JSON API (/api/v1)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from ._transport import Transport
from .models import (
    PushRegisterDeviceOptions,
    PushRegisterDeviceResult,
    PushRespondResult,
    PushSendOptions,
    PushSendResult,
    PushVerifyResult,
    RecoveryCodesResult,
    RecoveryDeleteOptions,
    RecoveryDeleteResult,
    RecoveryGenerateOptions,
    RecoveryStatusOptions,
    RecoveryStatusResult,
    RecoveryVerifyOptions,
    RecoveryVerifyResult,
    SendEmailOtpOptions,
    SendOtpResult,
    SendSmsOtpOptions,
    TotpSetupOptions,
    TotpSetupResult,
    TotpVerifyOptions,
    VerifyEmailOtpOptions,
    VerifyResult,
    VerifySmsOtpOptions,
    WebAuthnAuthenticateFinishOptions,
    WebAuthnAuthenticateStartOptions,
    WebAuthnRegisterFinishOptions,
    WebAuthnRegisterStartOptions,
    WebAuthnVerifyResult,
    from_json,
    to_json,
)


class SmsApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def send(self, options: SendSmsOtpOptions) -> SendOtpResult:
        """Sends a code. Never retried automatically (a lost answer may hide a delivered SMS)."""
        return from_json(SendOtpResult, await self._t.post("/otp/send", to_json(options)))

    async def verify(self, options: VerifySmsOtpOptions) -> VerifyResult:
        """A wrong code is not an error: VerifyResult(verified=False, attempts_remaining=...)."""
        return from_json(VerifyResult, await self._t.post("/otp/verify", to_json(options)))


class EmailApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def send(self, options: SendEmailOtpOptions) -> SendOtpResult:
        return from_json(SendOtpResult, await self._t.post("/email-otp/send", to_json(options)))

    async def verify(self, options: VerifyEmailOtpOptions) -> VerifyResult:
        return from_json(VerifyResult, await self._t.post("/email-otp/verify", to_json(options)))


class TotpApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def setup(self, options: TotpSetupOptions) -> TotpSetupResult:
        return from_json(TotpSetupResult, await self._t.post("/totp/setup", to_json(options)))

    async def verify(self, options: TotpVerifyOptions) -> VerifyResult:
        return from_json(VerifyResult, await self._t.post("/totp/verify", to_json(options)))


class RecoveryApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def generate(self, options: RecoveryGenerateOptions) -> RecoveryCodesResult:
        """A new set of single-use codes, shown this once. Never retried automatically."""
        return from_json(RecoveryCodesResult, await self._t.post("/recovery/generate", to_json(options)))

    async def regenerate(self, options: RecoveryGenerateOptions) -> RecoveryCodesResult:
        """Replaces the whole set (the old codes stop working) and returns the new codes."""
        return from_json(RecoveryCodesResult, await self._t.post("/recovery/generate", {**to_json(options), "replace": True}))

    async def verify(self, options: RecoveryVerifyOptions) -> RecoveryVerifyResult:
        """A wrong or used code is not an error: RecoveryVerifyResult(verified=False, remaining=...)."""
        return from_json(RecoveryVerifyResult, await self._t.post("/recovery/verify", to_json(options)))

    async def status(self, options: RecoveryStatusOptions) -> RecoveryStatusResult:
        """How many codes are left. Safe to retry."""
        return from_json(RecoveryStatusResult, await self._t.post("/recovery/status", to_json(options), idempotent=True))

    async def delete(self, options: RecoveryDeleteOptions) -> RecoveryDeleteResult:
        """Every code of the user's set stops working."""
        return from_json(RecoveryDeleteResult, await self._t.post("/recovery/delete", to_json(options)))


class WebAuthnApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def register_start(self, options: WebAuthnRegisterStartOptions) -> Dict[str, Any]:
        """The `data` dict: {"publicKey": PublicKeyCredentialCreationOptionsJSON}. Safe to retry."""
        return await self._t.post("/webauthn/register/options", to_json(options), idempotent=True)

    async def register_finish(self, options: WebAuthnRegisterFinishOptions) -> WebAuthnVerifyResult:
        return from_json(WebAuthnVerifyResult, await self._t.post("/webauthn/register/verify", to_json(options)))

    async def authenticate_start(self, options: Optional[WebAuthnAuthenticateStartOptions] = None) -> Dict[str, Any]:
        """The `data` dict: {"publicKey": PublicKeyCredentialRequestOptionsJSON}. Safe to retry."""
        body = to_json(options or WebAuthnAuthenticateStartOptions())
        return await self._t.post("/webauthn/authenticate/options", body, idempotent=True)

    async def authenticate_finish(self, options: WebAuthnAuthenticateFinishOptions) -> WebAuthnVerifyResult:
        return from_json(WebAuthnVerifyResult, await self._t.post("/webauthn/authenticate/verify", to_json(options)))


class PushApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def register_device(self, options: PushRegisterDeviceOptions) -> PushRegisterDeviceResult:
        return from_json(PushRegisterDeviceResult, await self._t.post("/push/devices", to_json(options)))

    async def send(self, options: PushSendOptions) -> PushSendResult:
        """Never retried automatically (it notifies the user's phone)."""
        return from_json(PushSendResult, await self._t.post("/push/send", to_json(options)))

    async def respond(self, request_id: str, action: str, number: Optional[int] = None, not_me: Optional[bool] = None) -> PushRespondResult:
        """The device's answer, "approve" or "deny" (normally sent by your mobile app)."""
        body: Dict[str, Any] = {"requestId": request_id, "action": action}
        if number is not None:
            body["number"] = number
        if not_me is not None:
            body["notMe"] = not_me
        return from_json(PushRespondResult, await self._t.post("/push/respond", body))

    async def verify(self, request_id: str, user_id: Optional[str] = None) -> PushVerifyResult:
        """Polls the request's status. Safe to retry."""
        body: Dict[str, Any] = {"requestId": request_id}
        if user_id is not None:
            body["userId"] = user_id
        return from_json(PushVerifyResult, await self._t.post("/push/verify", body, idempotent=True))


class TwoFactorClient:
    """SecureKey client. ``base_url`` is the server root (the SDK appends /api/v1).

    ``timeout``: seconds per socket operation of each attempt. ``retries``: retries for
    idempotent calls only (default 2; 0 disables) — see the README for the policy.
    """

    def __init__(self, api_key: str, base_url: str, *, timeout: float = 10.0, retries: int = 2) -> None:
        transport = Transport(api_key=api_key, base_url=base_url, timeout=timeout, retries=retries)
        self.sms = SmsApi(transport)
        self.email = EmailApi(transport)
        self.totp = TotpApi(transport)
        self.recovery = RecoveryApi(transport)
        self.webauthn = WebAuthnApi(transport)
        self.push = PushApi(transport)
