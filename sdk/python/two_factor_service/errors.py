"""The one exception the SDK raises."""
from __future__ import annotations

from typing import List, Optional


class SecureKeyError(Exception):
    """A request SecureKey refused, or that got no answer.

    ``code`` is SecureKey's error code (e.g. ``OTP_EXPIRED``, ``MFA_REQUIRED``, ``RATE_LIMITED``),
    or ``NETWORK_ERROR`` / ``TIMEOUT`` (``status`` 0) when no answer came.
    """

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        required_channels: Optional[List[str]] = None,
        matched_policies: Optional[List[str]] = None,
        retry_after: Optional[int] = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        #: HTTP status; 0 when no response was received.
        self.status = status
        self.message = message
        #: MFA_REQUIRED: the channels still to verify.
        self.required_channels: List[str] = list(required_channels or [])
        #: MFA_REQUIRED: the names of the tenant policies that asked for them.
        self.matched_policies: List[str] = list(matched_policies or [])
        #: Seconds to wait before trying again (429 and some 503 answers).
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"SecureKeyError(code={self.code!r}, status={self.status}, message={self.message!r})"
