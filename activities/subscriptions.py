"""Organisations' webhook subscriptions: every team notification of an organisation's event, once per
subscription, signed with the subscription's own secret.

The workflow's commands do not change: it still emits one ``send_notification`` per role, person and
channel (and per event webhook). The activity recognises which notification a request belongs to
(:func:`notification_key`: its key without the recipient's part), and the first of its requests to
:meth:`store.subscriptions.Subscriptions.claim` it delivers it to each matching subscription under the
key ``<notification key>:sub:<subscription id>``, journaled like every delivery: a key delivered is never
sent again (by a retry, or another worker), and the other requests of the notification skip.
Guest messages (invitations, reminders to attendees and speakers, thanks) are not team notifications and
are not fanned out, as they are not sent to the event's webhooks either.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from temporalio.exceptions import ApplicationError

from activities.errors import transient
from store.subscriptions import SigningSubscription
from workflows.messages import NotificationRequest, Recipient

if TYPE_CHECKING:
    from activities.notifications import Notifier


def notification_key(request: NotificationRequest) -> str | None:
    """``<event id>:<cause>``, the notification `request` is one delivery of; None for a request that is not
    a team notification (a guest's message, a key of another shape).

    The workflow keys a team notification's deliveries ``<event id>:<cause>:<role>:<person id or ->:<channel>``
    and an event webhook's ``<event id>:<cause>:webhook:<12 hex of sha256(url)>`` (workflows.lifecycle).
    """
    r = request.recipient
    if request.channel == "webhook" and r.role == "subscriber" and r.webhook_url:
        suffix = f":webhook:{hashlib.sha256(r.webhook_url.encode()).hexdigest()[:12]}"
    elif r.role == "guest":
        return None
    else:
        suffix = f":{r.role}:{r.person_id or '-'}:{request.channel}"
    head = f"{request.event_id}:"
    if not request.key.endswith(suffix) or not request.key.startswith(head):
        return None
    key = request.key[: -len(suffix)]
    return key if len(key) > len(head) else None


def subscription_request(request: NotificationRequest, key: str, subscription: SigningSubscription
                         ) -> NotificationRequest:
    """The delivery of notification `key` (of which `request` is one delivery) to `subscription`."""
    return request.model_copy(update={
        "key": f"{key}:sub:{subscription.id}", "channel": "webhook", "attach_ics": False,
        "recipient": Recipient(role="subscriber", webhook_url=subscription.url),
    })


async def fan_out(notifier: Notifier, request: NotificationRequest, *, own_failed: bool = False,
                  own_final: bool = False) -> None:
    """Deliver `request`'s notification to its organisation's matching subscriptions, if this request is the
    one that fans it out.

    Args:
        own_failed: `request`'s own delivery failed and its error is what the activity raises (nothing more
            is raised here).
        own_final: that failure is permanent, so the activity will not be retried: a subscription that
            fails now is recorded ``failed``, not ``retrying``.

    Raises:
        ApplicationError: ``TransientDeliveryFailure`` when a subscription may take it on a later attempt
            (and `request`'s own delivery succeeded): the activity is retried, and what was delivered is not
            sent again.
    """
    subscriptions = notifier.subscriptions
    key = notification_key(request)
    if subscriptions is None or key is None:
        return
    matching = await subscriptions.matching(request.event_id, request.kind)
    if not matching or not await subscriptions.claim(key, request.key):
        return
    pending: list[str] = []
    for sub in matching:
        try:
            await notifier.deliver_signed(subscription_request(request, key, sub), sub.secrets, final=own_final)
        except Exception as err:  # noqa: BLE001 - recorded by deliver_signed; only whether to retry matters here
            if not (isinstance(err, ApplicationError) and err.non_retryable):
                pending.append(sub.id)
    if pending and not own_failed:
        raise transient(f"webhook subscription(s) {', '.join(pending)} did not take the notification yet")
