"""What the API needs of an event to check who may act on it, cached per process.

An attendee act (RSVP, check-in, survey) is a database transaction, but who may do it
depends on the event's kind (its definition's permissions) and its team: asking the
workflow for them on every check-in would put the door's whole load back on it. Both
are fixed once the event is started (a postponement moves only dates, which these acts
do not read), so each event's details are read once and kept for a short while.

Where the event keeps its roster is cached too: it only ever moves from the workflow
(``memory``, events recorded before the roster database) to the database, and the
routes look at the database's own record of the event before trusting ``memory``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio.client import Client

from workflows.client import state
from workflows.messages import EventDetails, StateView


@dataclass(frozen=True)
class EventInfo:
    """An event's details, kind and where its roster lives, as last read from its state."""

    details: EventDetails
    kind: str
    roster: str  # "memory" or "database"

    @classmethod
    def of(cls, view: StateView) -> EventInfo:
        return cls(details=view.event, kind=view.kind, roster=view.roster)


class EventInfoCache:
    """Event details by event id, each kept `ttl` seconds, at most `size` events (oldest dropped).

    Concurrent misses for one event share one read of its state.
    """

    def __init__(self, ttl: float = 60.0, size: int = 10_000, rpc_timeout: timedelta | None = None) -> None:
        self.ttl = ttl
        self.size = size
        self.rpc_timeout = rpc_timeout
        self._items: OrderedDict[str, tuple[float, EventInfo]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[EventInfo]] = {}
        self.reads = 0
        """State reads done to fill the cache (tests check that acts do not read the workflow)."""

    def __len__(self) -> int:
        return len(self._items)

    def remember(self, view: StateView) -> EventInfo:
        """Keep what a state read just said (any route that read the state anyway refreshes the entry)."""
        info = EventInfo.of(view)
        self._put(view.event.id, info)
        return info

    def moved(self, event_id: str) -> None:
        """The event's roster is in the database now (it moved from the workflow)."""
        hit = self._items.get(event_id)
        if hit is not None:
            self._items[event_id] = (hit[0], replace(hit[1], roster="database"))

    def forget(self, event_id: str) -> None:
        self._items.pop(event_id, None)

    def _put(self, event_id: str, info: EventInfo) -> None:
        self._items[event_id] = (time.monotonic() + self.ttl, info)
        self._items.move_to_end(event_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    async def get(self, client: Client, event_id: str) -> EventInfo:
        """The event's details, from the cache or (once, however many ask at the same time) its state.

        Raises:
            RPCError: NOT_FOUND for an unknown event, or Temporal's other failures (not cached).
        """
        hit = self._items.get(event_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        loading = self._loading.get(event_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(client, event_id))
            self._loading[event_id] = loading
            loading.add_done_callback(lambda done: self._settled(event_id, done))
        return await asyncio.shield(loading)

    async def _load(self, client: Client, event_id: str) -> EventInfo:
        self.reads += 1
        return self.remember(await state(client, event_id, rpc_timeout=self.rpc_timeout))

    def _settled(self, event_id: str, done: asyncio.Future[EventInfo]) -> None:
        self._loading.pop(event_id, None)
        if not done.cancelled():
            done.exception()  # retrieved here: a failure every waiter gave up on is not reported as lost
