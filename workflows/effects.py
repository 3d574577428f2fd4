"""How the workflow runs what the lifecycle asks for: each effect as its activity, with a retry policy
chosen for what it does. Activities are called by name, so nothing here imports their dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.lifecycle import Compensate, Lifecycle, RunActivity
    from workflows.messages import (
        DeliveryRecord,
        DossierRequest,
        InvitationSend,
        NotificationRequest,
        ReleaseRequest,
        RosterNotice,
    )

# Retry policies chosen for what each effect does. Permanent failures (a bad
# address, a 4xx) are raised by the activities as non-retryable ApplicationErrors.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=8,  # ~30 minutes of trying; then the failure is recorded on the event
)
DOSSIER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(hours=1),
    maximum_attempts=6,  # archive/report failures escalate to the owner instead of failing the event
)
ROSTER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,  # the database comes back; what the event recorded must reach it
)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=20,  # a batch resumes where its heartbeat left off; each person's send is keyed
)
COMPENSATION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
    maximum_attempts=6,
)



async def run_effect(lc: Lifecycle, effect: Any, inviting: set[asyncio.Future[None]],
                     log: Callable[..., None]) -> None:
    """Run one effect the lifecycle asked for as its activity, and tell the lifecycle how it ended.

    A notification that fails for good is recorded as a failed delivery; a roster send, an activity task or a
    compensation that fails is recorded on the event (and escalated by the lifecycle), never raised: the event
    goes on. A calendar update to everyone invited waits for the invitation sends still in flight (`inviting`).
    """
    if isinstance(effect, NotificationRequest):
        try:
            record = await workflow.execute_activity(
                "send_notification", effect, result_type=DeliveryRecord,
                start_to_close_timeout=timedelta(seconds=60), retry_policy=NOTIFY_RETRY,
            )
        except ActivityError as err:
            record = DeliveryRecord(
                key=effect.key, kind=effect.kind, channel=effect.channel,
                to=effect.recipient.email or effect.recipient.webhook_url or effect.recipient.role,
                status="failed", detail=str(err.cause or err), at=workflow.now(),
            )
        if not lc.in_database:  # else the activity recorded the delivery in the database itself
            lc.record.deliveries.append(record)
    elif isinstance(effect, (InvitationSend, RosterNotice)):
        if isinstance(effect, RosterNotice) and effect.audience == "invited" and inviting:
            # A calendar update goes to everyone whose invitation went out: invitations still being
            # sent (with the old dates) go first, so nobody is left holding the old entry.
            await asyncio.gather(*list(inviting), return_exceptions=True)
        name = (f"invitations:{effect.batch}" if isinstance(effect, InvitationSend)
                else f"notice:{effect.kind}:{effect.cause}")
        activity_name = "send_invitations" if isinstance(effect, InvitationSend) else "notify_roster"
        try:
            detail = await workflow.execute_activity(
                activity_name, effect, result_type=str, start_to_close_timeout=timedelta(hours=12),
                heartbeat_timeout=timedelta(minutes=2), retry_policy=SEND_RETRY,
            )
            lc.at(workflow.now()).effect_finished(name, True, detail)
        except ActivityError as err:
            log("warning", "roster send failed", effect=name, error=str(err.cause or err))
            lc.at(workflow.now()).effect_finished(name, False, str(err.cause or err))
    elif isinstance(effect, RunActivity):
        request = DossierRequest(event=lc.event, definition=lc.definition, definition_hash=lc.definition_hash,
                                 record=lc.record)
        try:
            detail = await workflow.execute_activity(
                effect.activity, request, result_type=str,
                start_to_close_timeout=timedelta(minutes=10), retry_policy=DOSSIER_RETRY,
            )
            lc.at(workflow.now()).activity_finished(effect.task_id, True, detail)
        except ActivityError as err:
            log("warning", "activity failed", task=effect.task_id, error=str(err.cause or err))
            lc.at(workflow.now()).activity_finished(effect.task_id, False, str(err.cause or err))
    elif isinstance(effect, Compensate):
        release = ReleaseRequest(event_id=lc.event.id, booking=effect.name, reason="event cancelled")
        try:
            detail = await workflow.execute_activity(
                "release_booking", release, result_type=str,
                start_to_close_timeout=timedelta(minutes=2), retry_policy=COMPENSATION_RETRY,
            )
            lc.at(workflow.now()).effect_finished(f"release:{effect.name}", True, detail)
        except ActivityError as err:
            lc.at(workflow.now()).effect_finished(f"release:{effect.name}", False, str(err.cause or err))

