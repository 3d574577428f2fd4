"""Messages the API decides and the waiting list's offers, as small durable workflows.

The API answers a registration or an RSVP from the database at once; what must follow survives a
crash of the API process because it is a workflow the API starts with an id that says what it is for
(starting it again with the same id is a no-op):

* ``SendNotices`` (id ``notices-<what>``): send a few messages (a registration's answer, a ticket),
  each retried as the event's own notifications are.
* ``WaitlistPromote`` (id ``promote-<event>-<cause>``): offer free places to the next people on the
  waiting list (``promote_waitlist``), one ``WaitlistOffer`` each.
* ``WaitlistOffer`` (id ``offer-<event>-<attendee>-<until>``): tell the person, wait until the offer's
  end (a durable timer), then offer whatever is still free (a lapsed offer's place) to the next.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.effects import NOTIFY_RETRY, ROSTER_RETRY
    from workflows.messages import DeliveryRecord, NotificationRequest, PromoteRequest, WaitlistOfferIn


@workflow.defn(name="SendNotices")
class SendNotices:
    @workflow.run
    async def run(self, notices: list[NotificationRequest]) -> list[DeliveryRecord]:
        """Send each message (one ``send_notification`` each, retried about 30 minutes); returns the records."""
        out = []
        for notice in notices:
            out.append(await workflow.execute_activity(
                "send_notification", notice, result_type=DeliveryRecord,
                start_to_close_timeout=timedelta(seconds=60), retry_policy=NOTIFY_RETRY))
        return out


async def _offer_places(event_id: str) -> list[str]:
    offers = await workflow.execute_activity(
        "promote_waitlist", PromoteRequest(event_id=event_id), result_type=list[WaitlistOfferIn],
        start_to_close_timeout=timedelta(minutes=1), retry_policy=ROSTER_RETRY)
    started = []
    for offer in offers:
        child = f"offer-{offer.event_id}-{offer.attendee_id}-{int(offer.expires_at.timestamp())}"
        await workflow.start_child_workflow(WaitlistOffer.run, offer, id=child,
                                            parent_close_policy=ParentClosePolicy.ABANDON)
        started.append(offer.attendee_id)
    return started


@workflow.defn(name="WaitlistPromote")
class WaitlistPromote:
    @workflow.run
    async def run(self, req: PromoteRequest) -> list[str]:
        """Offer the free places; returns who was offered one."""
        return await _offer_places(req.event_id)


@workflow.defn(name="WaitlistOffer")
class WaitlistOffer:
    @workflow.run
    async def run(self, offer: WaitlistOfferIn) -> list[str]:
        """Tell the person of their place, wait until the offer ends, then pass on what is still free."""
        await workflow.execute_activity(
            "send_notification", offer.notice, result_type=DeliveryRecord,
            start_to_close_timeout=timedelta(seconds=60), retry_policy=NOTIFY_RETRY)
        wait = (offer.expires_at - workflow.now()).total_seconds()
        if wait > 0:
            await workflow.sleep(wait, summary="until the offer ends")
        return await _offer_places(offer.event_id)
