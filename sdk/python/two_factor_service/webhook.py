"""Webhook signature checks for receivers (constant-time).

X-SecureKey-Signature:    sha256=<hex HMAC-SHA256(secret, raw body)>  (what the seed checks)
X-SecureKey-Signature-V2: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Optional, Union

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
