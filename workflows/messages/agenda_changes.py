"""The day's changes to the agenda: one act for the five changes (they share their checks, record and notice)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from workflows.messages.acts import Act
from workflows.messages.base import EventTime, SafeId

AgendaChangeKind = Literal["shorten", "extend", "move", "swap", "drop"]


class ChangeItem(Act):
    """On the day: change one agenda item's plan, with a reason; the projected times follow and the speakers
    of the items whose time changed are told.

    - ``shorten`` / ``extend``: by `minutes` (an item not yet ended; it keeps at least a minute).
    - ``move``: to `new_start` (and `room`, when given); an item not yet started.
    - ``swap``: with `with_item_id`, neither started: in one room the pair changes order within the span they
      held (the first start goes to the other item; the gap between them is kept); across rooms they exchange
      start and room.
    - ``drop``: an item not yet started leaves the agenda (its plan is kept for the report).

    A change that would make items overlap (in a room or for a speaker) is refused unless `allow_overlap`; one
    without the field it needs (:attr:`NEEDS`) is refused as invalid.
    """

    update = "change_item"
    permission = ("run_programme", "record_incident")

    item_id: SafeId
    change: AgendaChangeKind
    minutes: int | None = Field(default=None, ge=1, le=24 * 60, description="shorten / extend: by how many minutes.")
    new_start: EventTime | None = Field(default=None, description="move: the new planned start.")
    room: str | None = Field(default=None, min_length=1, max_length=100, description="move: a new room.")
    with_item_id: SafeId | None = Field(default=None, description="swap: the other item.")
    allow_overlap: bool = Field(default=False, description="Apply the change even when items then overlap.")
    reason: str = Field(min_length=1, max_length=2000)  # every change of the day's plan says why

    NEEDS: ClassVar[dict[str, str]] = {"shorten": "minutes", "extend": "minutes", "move": "new_start",
                                       "swap": "with_item_id"}
    """The field each change needs (the lifecycle refuses the act without it, as invalid)."""
