"""What the live tests share: the server, keys and peers handed over by test/sdk-python.test.ts
through the environment, the outbox (codes the SMS gateway / SMTP server received), the stand-in
browser, and an RFC 6238 TOTP generator (standard library)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import time
import unittest
import urllib.parse
import urllib.request
from typing import Any, Dict

URL = os.environ.get("SECUREKEY_TEST_URL", "")
API_KEY = os.environ.get("SECUREKEY_TEST_API_KEY", "")
MFA_API_KEY = os.environ.get("SECUREKEY_TEST_MFA_API_KEY", "")
OUTBOX_URL = os.environ.get("SECUREKEY_TEST_OUTBOX_URL", "")
#: The secret of API_KEY's tenant, whose webhooks go to the outbox.
WEBHOOK_SECRET = os.environ.get("SECUREKEY_TEST_WEBHOOK_SECRET", "")

requires_live_server = unittest.skipUnless(
    URL and API_KEY and MFA_API_KEY and OUTBOX_URL and WEBHOOK_SECRET,
    "needs a live server: run through `npm test` (test/sdk-python.test.ts)",
)


def _json(url: str, body: Any = None) -> Dict[str, Any]:
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read().decode("utf-8"))


def last_code(to: str) -> str:
    """The last code sent to a phone (E.164) or an email address."""
    return _json(f"{OUTBOX_URL}/outbox/code?" + urllib.parse.urlencode({"to": to}))["code"]


def browser_create(public_key: Dict[str, Any]) -> Dict[str, Any]:
    """navigator.credentials.create() in the stand-in browser: a RegistrationResponseJSON."""
    return _json(f"{OUTBOX_URL}/browser/create", {"publicKey": public_key})


def browser_get(public_key: Dict[str, Any]) -> Dict[str, Any]:
    """navigator.credentials.get(): an AuthenticationResponseJSON."""
    return _json(f"{OUTBOX_URL}/browser/get", {"publicKey": public_key})


def totp_now(secret_base32: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    key = base64.b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def messages_to(to: str) -> list:
    """Every SMS/email the peers received for a destination."""
    return _json(f"{OUTBOX_URL}/outbox/messages?" + urllib.parse.urlencode({"to": to}))["messages"]


def openapi() -> Dict[str, Any]:
    return _json(f"{URL}/api/v1/openapi.json")


def webhooks() -> list:
    """Webhook deliveries the outbox received: [{"raw": str, "headers": {...}}]."""
    return _json(f"{OUTBOX_URL}/outbox/webhooks")["webhooks"]
