"""Webhook signature checks for receivers (constant-time).

X-SecureKey-Signature:    sha256=<hex HMAC-SHA256(secret, raw body)>  (what the seed checks)
X-SecureKey-Signature-V2: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>

``verify_webhook`` (V2, which also refuses replays, then the payload) is the default for receivers.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Mapping, Optional, Union

Body = Union[bytes, str]


def _bytes(body: Body) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def verify_webhook_signature(raw_body: Body, header: Optional[str], secret: str) -> bool:
    """True when ``header`` (X-SecureKey-Signature) is the HMAC of the raw body under ``secret``."""
    if not secret or not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), _bytes(raw_body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().lower().encode("ascii", "replace"), expected.encode("ascii"))


def verify_webhook_signature_v2(
    raw_body: Body,
    header: Optional[str],
    secret: str,
    tolerance_seconds: int = 300,
    now: Optional[float] = None,
) -> bool:
    """Checks X-SecureKey-Signature-V2, refusing timestamps further than tolerance_seconds from now."""
    if not secret or not header:
        return False
    pairs = [p.strip().split("=", 1) for p in header.split(",")]
    t = next((v for k, *v in pairs if k == "t" and v), [""])[0]
    current = time.time() if now is None else now
    if not t.isdigit() or abs(current - int(t)) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode("utf-8"), t.encode("ascii") + b"." + _bytes(raw_body), hashlib.sha256).hexdigest()
    matches = [hmac.compare_digest(v[0].encode("ascii", "replace"), expected.encode("ascii")) for k, *v in pairs if k == "v1" and v]
    return any(matches)


class WebhookVerificationError(ValueError):
    """A delivery that did not pass ``verify_webhook``: answer it 401 (or 400) and do not act on it."""


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def verify_webhook(
    raw_body: Body,
    headers: Mapping[str, str],
    secret: str,
    tolerance_seconds: int = 300,
    now: Optional[float] = None,
) -> dict:
    """The default check for receivers: the timestamped X-SecureKey-Signature-V2 over the raw body
    (replays older or newer than ``tolerance_seconds`` are refused), then the payload.

    Pass the body exactly as received and the request's headers (any mapping; names are matched
    case-insensitively). Returns the parsed payload ``{"event", "channel", "data"}``; raises
    ``WebhookVerificationError`` otherwise."""
    header = _header(headers, "x-securekey-signature-v2")
    if not verify_webhook_signature_v2(raw_body, header, secret, tolerance_seconds, now):
        raise WebhookVerificationError("webhook signature (X-SecureKey-Signature-V2) missing, wrong or too old")
    payload = json.loads(_bytes(raw_body).decode("utf-8"))
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str) or not isinstance(payload.get("data"), dict):
        raise WebhookVerificationError("not a SecureKey webhook payload")
    return payload
