"""One POST to /api/v1/<path>: urllib in a worker thread (asyncio.to_thread), the envelope
unwrapped, failures raised as SecureKeyError.

Retry policy (the same as the Node SDK): only idempotent calls (push status polls, WebAuthn
options) are retried, at most ``retries`` times with exponential backoff and jitter, after a
network error before any response or a 502/503/504 (waiting Retry-After when it is at most
5 seconds). Sends and verifications that consume an attempt are never retried; 429s and
timeouts are never retried.
"""
from __future__ import annotations

import asyncio
import email.utils
import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from .errors import SecureKeyError

__version__ = "0.1.0"

MAX_RETRY_AFTER_S = 5
BASE_DELAY_S = 0.2
RETRYABLE_STATUS = {502, 503, 504}


def api_root(base_url: str) -> str:
    """The server root plus /api/v1 (a base_url already ending in /api/v1 is accepted)."""
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
    root = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    return root if root.endswith("/api/v1") else root + "/api/v1"


def _code_for_status(status: int) -> str:
    if status == 401:
        return "UNAUTHORIZED"
    if status == 404:
        return "NOT_FOUND"
    if status == 429:
        return "RATE_LIMITED"
    if status in RETRYABLE_STATUS:
        return "UNAVAILABLE"
    return "INTERNAL" if status >= 500 else f"HTTP_{status}"


def _retry_after(envelope: Optional[Mapping[str, Any]], header: Optional[str]) -> Optional[int]:
    value = envelope.get("retryAfter") if envelope else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return int(header)
    try:
        at = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0, int(at.timestamp() - time.time() + 0.999))


# An attempt's outcome: (data, None, _) on success, (None, error, retryable) on failure.
_Outcome = Tuple[Optional[Dict[str, Any]], Optional[SecureKeyError], bool]


class Transport:
    def __init__(self, api_key: str, base_url: str, timeout: float = 10.0, retries: int = 2) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key is required")
        self._root = api_root(base_url)
        self._timeout = timeout
        self._retries = max(0, int(retries))
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-API-Key": api_key.strip(),
            "User-Agent": f"securekey-two-factor-python/{__version__}",
        }

    async def post(self, path: str, body: Mapping[str, Any], idempotent: bool = False) -> Dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        attempt = 0
        while True:
            data, error, retryable = await asyncio.to_thread(self._attempt, path, payload)
            if error is None:
                return data or {}
            if not idempotent or not retryable or attempt >= self._retries:
                raise error
            backoff = BASE_DELAY_S * (2 ** attempt) * (0.5 + random.random() / 2)
            await asyncio.sleep(max(backoff, error.retry_after or 0))
            attempt += 1

    def _attempt(self, path: str, payload: bytes) -> _Outcome:
        url = self._root + path
        request = urllib.request.Request(url, data=payload, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as res:
                status, headers, raw = res.status, res.headers, res.read()
        except urllib.error.HTTPError as e:
            status, headers = e.code, e.headers
            try:
                raw = e.read()
            except OSError:
                raw = b""
        except (TimeoutError, socket.timeout):
            return None, self._timeout_error(url), False
        except urllib.error.URLError as e:
            if isinstance(e.reason, (TimeoutError, socket.timeout)):
                return None, self._timeout_error(url), False
            return None, SecureKeyError("NETWORK_ERROR", 0, f"could not reach SecureKey at {url}: {e.reason}"), True
        except (OSError, http.client.HTTPException) as e:  # reset, closed without a response, ...
            return None, SecureKeyError("NETWORK_ERROR", 0, f"could not reach SecureKey at {url}: {e or type(e).__name__}"), True

        envelope: Optional[Dict[str, Any]] = None
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
            if isinstance(parsed, dict) and isinstance(parsed.get("success"), bool):
                envelope = parsed
        except (UnicodeDecodeError, ValueError):
            envelope = None
        ok = 200 <= status < 300
        if ok and envelope is not None and envelope["success"] is True:
            data = envelope.get("data")
            return (data if isinstance(data, dict) else {}), None, False
        if ok:
            return None, SecureKeyError("INVALID_RESPONSE", status, f"unexpected answer from {url} (HTTP {status}): not a SecureKey response; check base_url"), False
        env = envelope or {}
        retry_after = _retry_after(env, headers.get("Retry-After") if headers else None)
        error = SecureKeyError(
            code=env["code"] if isinstance(env.get("code"), str) else _code_for_status(status),
            status=status,
            message=env["error"] if isinstance(env.get("error"), str) else f"{url} answered HTTP {status} without a SecureKey error; check base_url",
            required_channels=[c for c in env.get("requiredChannels") or [] if isinstance(c, str)],
            matched_policies=[p for p in env.get("matchedPolicies") or [] if isinstance(p, str)],
            retry_after=retry_after,
        )
        retryable = status in RETRYABLE_STATUS and (retry_after is None or retry_after <= MAX_RETRY_AFTER_S)
        return None, error, retryable

    def _timeout_error(self, url: str) -> SecureKeyError:
        return SecureKeyError("TIMEOUT", 0, f"no answer from SecureKey at {url} within {self._timeout} s")
