"""How a webhook is signed: the Standard Webhooks scheme, and the older ``X-Convene-Signature``.

Standard Webhooks (https://www.standardwebhooks.com, signed here with its ``standardwebhooks`` package)
sends three headers, and a receiver verifies them with the same package in any language:

- ``webhook-id``: ``msg_<32 hex>``, made from the notification's key, so a retry carries the same id;
- ``webhook-timestamp``: when this attempt was signed, in whole seconds since the epoch (a receiver
  refuses one more than 5 minutes away from its clock, so a captured delivery cannot be replayed later);
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``, one per secret in
  use, separated by spaces, so a receiver holding either of two secrets verifies during a rotation.

A secret is given as ``whsec_<base64>`` (the form the receiver's library takes), or as plain text, whose
UTF-8 bytes are the key: the receiver then configures ``whsec_`` + base64 of that text
(:func:`receiver_secret`). ``X-Convene-Signature: sha256=<hex HMAC-SHA256 of the body>`` (first secret
only, no timestamp) is still sent for one release, for receivers written against it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

PREFIX = "whsec_"


def secret_bytes(secret: str | bytes) -> bytes:
    """The HMAC key of a configured secret: ``whsec_<base64>`` decoded, other text as its UTF-8 bytes.

    Raises:
        ValueError: an empty secret, or ``whsec_`` followed by something that is not base64.
    """
    if isinstance(secret, bytes):
        key = secret
    elif secret.startswith(PREFIX):
        try:
            key = base64.b64decode(secret[len(PREFIX):] + "==", validate=False)
        except (binascii.Error, ValueError):
            raise ValueError("a webhook secret starting whsec_ must be base64 after it") from None
    else:
        key = secret.encode()
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def receiver_secret(secret: str | bytes) -> str:
    """What a receiver gives its Standard Webhooks library for a configured secret: ``whsec_<base64>``."""
    return PREFIX + base64.b64encode(secret_bytes(secret)).decode()


def message_id(key: str) -> str:
    """``webhook-id`` of the notification keyed `key`: the same for every attempt, ASCII whatever the key."""
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def legacy_signature(secret: bytes, body: bytes) -> str:
    """The ``X-Convene-Signature`` header value of a webhook body: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed_headers(secrets: Sequence[bytes], key: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    """The signature headers of one attempt: Standard Webhooks' three, signed with every secret in
    `secrets` (newest first), and ``X-Convene-Signature`` with the first.

    Args:
        secrets: HMAC keys (:func:`secret_bytes`), at least one.
        key: the notification's idempotency key.
        body: the exact bytes sent (UTF-8 JSON).
        now: the signing time (default: the clock); whole seconds are sent.
    """
    if not secrets:
        raise ValueError("no webhook secret to sign with")
    at = datetime.fromtimestamp(int((now or datetime.now(UTC)).timestamp()), UTC)
    msg_id = message_id(key)
    text = body.decode()
    signatures = " ".join(Webhook(secret).sign(msg_id, at, text) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "X-Convene-Signature": legacy_signature(secrets[0], body),
    }
