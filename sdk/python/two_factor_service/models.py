"""Option and result dataclasses. Field names are the proto's in snake_case; on the wire they
are proto3 JSON lowerCamelCase (``user_id`` → ``userId``)."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Type, TypeVar


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def to_json(options: Any) -> Dict[str, Any]:
    """An options dataclass → the JSON request body (None fields left out)."""
    return {camel(f.name): getattr(options, f.name) for f in dataclasses.fields(options) if getattr(options, f.name) is not None}


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any) -> Optional[datetime]:
    """RFC 3339 (proto3 JSON Timestamp) → an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(_FRACTION.sub(r"\1", value).replace("Z", "+00:00"))


R = TypeVar("R")


def from_json(cls: Type[R], data: Dict[str, Any]) -> R:
    """The `data` of a success envelope → a result dataclass; unknown keys are ignored."""
    values: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = camel(f.name)
        if key in data:
            values[f.name] = parse_time(data[key]) if f.name.endswith("_at") else data[key]
    return cls(**values)


# --- options ---------------------------------------------------------------------------------

@dataclass
class SendSmsOtpOptions:
    phone: str
    purpose: Optional[str] = None
    user_id: Optional[str] = None
    locale: Optional[str] = None


@dataclass
class VerifySmsOtpOptions:
    phone: str
    code: str


@dataclass
class SendEmailOtpOptions:
    email: str
    purpose: Optional[str] = None
    user_id: Optional[str] = None
    locale: Optional[str] = None


@dataclass
class VerifyEmailOtpOptions:
    email: str
    code: str


@dataclass
class TotpSetupOptions:
    user_id: str
    account_name: str
    issuer: Optional[str] = None
    replace: Optional[bool] = None


@dataclass
class TotpVerifyOptions:
    user_id: str
    code: str


@dataclass
class RecoveryGenerateOptions:
    user_id: str
    #: Replace a set that still has unused codes (ALREADY_ENROLLED otherwise).
    replace: Optional[bool] = None


@dataclass
class RecoveryVerifyOptions:
    user_id: str
    #: As the user typed it: case, spaces and dashes do not matter.
    code: str
    #: What the verification is for (MFA policies).
    purpose: Optional[str] = None


@dataclass
class RecoveryStatusOptions:
    user_id: str


@dataclass
class RecoveryDeleteOptions:
    user_id: str


@dataclass
class WebAuthnRegisterStartOptions:
    user_id: str
    user_name: str
    display_name: Optional[str] = None


@dataclass
class WebAuthnRegisterFinishOptions:
    user_id: str
    response: Dict[str, Any]
    id: str
    raw_id: str
    type: str = "public-key"
    device_name: Optional[str] = None
    client_extension_results: Optional[Dict[str, Any]] = None
    authenticator_attachment: Optional[str] = None


@dataclass
class WebAuthnAuthenticateStartOptions:
    #: None for a discoverable (username-less) sign-in.
    user_id: Optional[str] = None


@dataclass
class WebAuthnAuthenticateFinishOptions:
    user_id: Optional[str]
    response: Dict[str, Any]
    id: str
    raw_id: str
    type: str = "public-key"
    client_extension_results: Optional[Dict[str, Any]] = None
    authenticator_attachment: Optional[str] = None


@dataclass
class PushRegisterDeviceOptions:
    user_id: str
    fcm_token: str
    #: ios, android or web
    platform: str
    device_name: Optional[str] = None


@dataclass
class PushSendOptions:
    user_id: str
    title: str
    body: Optional[str] = None
    #: What the approval is for (MFA policies); defaults to "login".
    purpose: Optional[str] = None


# --- results ---------------------------------------------------------------------------------

@dataclass
class SendOtpResult:
    expires_in: int = 0
    expires_at: Optional[datetime] = None
    resend_after: int = 0
    #: The destination, masked.
    to: str = ""


@dataclass
class VerifyResult:
    verified: bool = False
    #: SMS/email: attempts left for this code.
    attempts_remaining: Optional[int] = None
    #: TOTP: seconds to wait after repeated failures.
    retry_after: Optional[int] = None


@dataclass
class TotpSetupResult:
    uri: str = ""
    qr_code_data_url: str = ""
    secret: str = ""


@dataclass
class RecoveryCodesResult:
    #: The codes, grouped ("k7mq-2xw9-hc4t"): show them to the user now, they are never shown again.
    codes: List[str] = dataclasses.field(default_factory=list)
    remaining: int = 0


@dataclass
class RecoveryVerifyResult:
    verified: bool = False
    #: Unused codes left in the user's set.
    remaining: int = 0
    #: Seconds to wait after repeated failures.
    retry_after: int = 0


@dataclass
class RecoveryStatusResult:
    enrolled: bool = False
    remaining: int = 0
    total: int = 0
    #: None when not enrolled.
    generated_at: Optional[datetime] = None


@dataclass
class RecoveryDeleteResult:
    deleted: bool = False


@dataclass
class WebAuthnVerifyResult:
    verified: bool = False
    credential_id: str = ""
    user_id: Optional[str] = None


@dataclass
class PushRegisterDeviceResult:
    device_id: str = ""


@dataclass
class PushSendResult:
    request_id: str = ""
    expires_at: Optional[datetime] = None
    #: pending, approved, denied, expired
    status: str = ""
    #: With number matching on: the number to show on the login screen.
    number: int = 0


@dataclass
class PushRespondResult:
    status: str = ""


@dataclass
class PushVerifyResult:
    verified: bool = False
    status: str = ""
