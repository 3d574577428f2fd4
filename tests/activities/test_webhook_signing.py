"""Webhooks a receiver verifies with the stock ``standardwebhooks`` library: a fresh delivery is accepted,
a replayed one (old timestamp) and a tampered one are refused, and two secrets are valid during a rotation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import Notifier, SmtpConfig
from activities.webhook_signing import legacy_signature, message_id, receiver_secret, secret_bytes
from tests.activities.support import notification
from tests.subscribers import serving

NEW, OLD = "whsec_" + "bmV3LXNlY3JldC1mb3ItY29udmVuZS13ZWJob29rcw==", "the old secret, in plain text"


@dataclass
class VerifyingReceiver:
    """A subscriber's endpoint on 127.0.0.1 written the way the Standard Webhooks docs say: it verifies
    with the library (the id, the timestamp within 5 minutes, a signature by its secret) and answers
    401 otherwise. It holds one secret: the one it was given."""

    secret: str
    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        self.requests.append((headers, body))
        try:
            self.accepted.append(Webhook(self.secret).verify(body, headers))
        except WebhookVerificationError as err:
            self.refused.append(str(err))
            return 401
        return 200


@pytest.fixture
def receivers() -> Iterator[dict[str, VerifyingReceiver]]:
    """Two receivers: one configured with the new secret, one still with the old."""
    made = {name: VerifyingReceiver(secret=secret)
            for name, secret in (("new", receiver_secret(NEW)), ("old", receiver_secret(OLD)))}
    with serving(made.values()):
        yield made


def rotating(clock: Any = None) -> Notifier:
    """A notifier mid-rotation: the new secret first, the old one still signing."""
    extra = {"clock": clock} if clock else {}
    return Notifier(smtp=SmtpConfig(), webhook_secret="unused", webhook_secrets=[NEW, OLD], webhook_timeout=2, **extra)


async def send(notifier: Notifier, url: str, key: str = "conf-1:decision.k1:hooks:webhook") -> Any:
    return await ActivityEnvironment().run(notifier.send_notification,
                                           notification(key=key, channel="webhook", webhook_url=url, kind="decision"))


async def test_a_fresh_delivery_is_accepted_by_receivers_of_either_secret(receivers: dict[str, VerifyingReceiver]):
    """During a rotation both secrets sign: a receiver still on the old one verifies, as does one on the new."""
    for name in ("new", "old"):
        record = await send(rotating(), receivers[name].url)
        assert record.status == "sent", (name, record)
        assert receivers[name].refused == [] and receivers[name].accepted[0]["kind"] == "decision"
    headers, body = receivers["new"].requests[0]
    assert headers["webhook-id"] == message_id("conf-1:decision.k1:hooks:webhook")
    assert len(headers["webhook-signature"].split(" ")) == 2  # one v1 signature per secret
    assert abs(int(headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    # the older header, kept for one release: the body's HMAC with the first secret
    assert headers["x-convene-signature"] == legacy_signature(secret_bytes(NEW), body)


async def test_a_replayed_delivery_is_refused(receivers: dict[str, VerifyingReceiver]):
    """A delivery captured and sent again ten minutes later carries its old timestamp: refused. Rewriting
    the timestamp breaks the signature: refused too. Sent fresh, the same message is accepted."""
    receiver = receivers["new"]
    captured_at = datetime.now(UTC) - timedelta(minutes=10)
    with pytest.raises(ApplicationError) as refused:  # what the notifier sends at that time is refused now
        await send(rotating(clock=lambda: captured_at), receiver.url)
    assert refused.value.non_retryable and "401" in str(refused.value)
    assert receiver.refused == ["Message timestamp too old"]
    headers, body = receiver.requests[0]
    async with httpx.AsyncClient() as http:
        replayed = await http.post(receiver.url, content=body, headers=headers)
        forged = await http.post(receiver.url, content=body, headers=headers | {
            "webhook-timestamp": str(int(datetime.now(UTC).timestamp()))})
    assert (replayed.status_code, forged.status_code) == (401, 401)
    assert receiver.refused[1:] == ["Message timestamp too old", "No matching signature found"]
    assert receiver.accepted == []
    record = await send(rotating(), receiver.url)
    assert record.status == "sent" and json.loads(receiver.requests[-1][1]) == receiver.accepted[0]


async def test_a_receiver_with_another_secret_refuses(receivers: dict[str, VerifyingReceiver]):
    """A secret retired from the rotation (not in CONVENE_WEBHOOK_SECRETS) no longer verifies."""
    only_new = Notifier(smtp=SmtpConfig(), webhook_secret=NEW, webhook_timeout=2)
    with pytest.raises(ApplicationError):
        await send(only_new, receivers["old"].url)
    assert receivers["old"].refused == ["No matching signature found"] and receivers["old"].accepted == []


def test_secrets_are_read_as_standard_webhooks_or_text():
    """``whsec_<base64>`` is decoded; anything else is its UTF-8 bytes; an empty one is refused."""
    assert secret_bytes(NEW) == b"new-secret-for-convene-webhooks"
    assert secret_bytes("plain") == b"plain" and receiver_secret("plain") == "whsec_cGxhaW4="
    with pytest.raises(ValueError):
        secret_bytes("")
