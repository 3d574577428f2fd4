"""Compensation of a cancelled event: release its bookings.

``release_booking`` (:class:`~workflows.messages.ReleaseRequest` in, a one-line
detail out) records the release as one JSON line per booking in
``releases/<event_id>.jsonl`` of the archive store. The line is keyed by the
booking, so a retried activity never writes it twice. Telling the venue or the
hotel is a person's job, guided by that record (no supplier API is wired in).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio import activity

from activities.archive import ArchiveStore, safe_name
from convene.logs import get_logger
from workflows.messages import ReleaseRequest


class Bookings:
    """Records booking releases in a store; its bound :meth:`release_booking` is the activity."""

    def __init__(self, store: ArchiveStore) -> None:
        self.store = store

    @activity.defn(name="release_booking")
    async def release_booking(self, request: ReleaseRequest) -> str:
        """Record that ``request.booking`` of the event is released; idempotent per booking.

        Raises:
            ApplicationError: ``UnsafePath`` (non-retryable) for an event id that is not a plain name.
        """
        path = f"releases/{safe_name(request.event_id, 'event id')}.jsonl"
        info = activity.info()
        line = {
            "event_id": request.event_id,
            "booking": request.booking,
            "reason": request.reason,
            "workflow_id": info.workflow_id,
            "recorded_at": datetime.now(UTC).isoformat(),
        }
        added = await asyncio.to_thread(self.store.append_once, path, "booking", line)
        get_logger(__name__, event_id=request.event_id).info(
            "booking released" if added else "booking release already recorded", booking=request.booking
        )
        return f"{request.booking} released" + ("" if added else " (already recorded)") + f"; see {path}"
