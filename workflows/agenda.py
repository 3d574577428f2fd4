"""The agenda's shape: overlaps and each room's buffer, read from a list of items; and the agenda after one
of the day's changes (:func:`changed`), which the same :func:`layout` then checks.

One function for the agenda gate's check (:func:`workflows.lifecycle.checks.agenda_ready`) and for the
agenda editor, which asks the API (``POST /ui/api/events/{id}/agenda/check``) as the person types, so the
page and the gate can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from workflows.messages import AgendaItem, AgendaLayout, AgendaOverlap, ChangeItem, RoomBuffer

FREE_KINDS = ("break", "meal")
"""Item kinds that count as buffer: nobody is on stage."""


def layout(items: Sequence[AgendaItem]) -> AgendaLayout:
    """Overlaps (in start order; one room's first, else one speaker's in two rooms) and each room's buffer.

    A room's buffer is ``1 - busy / span`` where span is from its first start to its last end in minutes and
    busy the minutes of its items that are not breaks or meals; 0 for a room whose span is empty.
    """
    ordered = sorted(items, key=lambda i: (i.start, i.id))
    overlaps: list[AgendaOverlap] = []
    for a_i, a in enumerate(ordered):
        for b in ordered[a_i + 1:]:
            if b.start >= a.end:
                continue
            if a.room == b.room:
                overlaps.append(AgendaOverlap(first=a.id, second=b.id, room=a.room))
            elif a.speaker_id and a.speaker_id == b.speaker_id:
                overlaps.append(AgendaOverlap(first=a.id, second=b.id, speaker=a.speaker_id))
    rooms: dict[str, list[AgendaItem]] = {}
    for item in ordered:
        rooms.setdefault(item.room, []).append(item)
    buffers = []
    for room, room_items in rooms.items():
        span = (max(i.end for i in room_items) - room_items[0].start).total_seconds() / 60
        busy = sum(i.minutes for i in room_items if i.kind not in FREE_KINDS)
        buffers.append(RoomBuffer(room=room, share=1 - busy / span if span else 0, items=[i.id for i in room_items]))
    return AgendaLayout(overlaps=overlaps, rooms=buffers)


def changed(items: Sequence[AgendaItem], act: ChangeItem) -> list[AgendaItem]:
    """The agenda after the day's change `act` (pure: `items` is left as it was).

    shorten/extend change the item's minutes by ``act.minutes``; move sets its start (and room, when given);
    swap: in one room the pair changes order within the span they held (the earlier start goes to the other
    item, the gap between them is kept), across rooms they exchange start and room; drop removes it.

    Raises:
        KeyError: `act` names an item not in `items`.
        ValueError: shortening would leave the item less than a minute, or extending more than a day.
    """
    by_id = {i.id: i for i in items}
    item = by_id[act.item_id]
    new: dict[str, AgendaItem | None] = {}
    if act.change in ("shorten", "extend"):
        minutes = item.minutes + (act.minutes or 0) * (-1 if act.change == "shorten" else 1)
        if not 1 <= minutes <= 24 * 60:
            raise ValueError(f"{item.id} would last {minutes} minutes")
        new[item.id] = item.model_copy(update={"minutes": minutes})
    elif act.change == "move":
        new[item.id] = item.model_copy(update={"start": act.new_start, "room": act.room or item.room})
    elif act.change == "swap":
        other = by_id[act.with_item_id or ""]
        if item.room == other.room:
            first, second = sorted((item, other), key=lambda i: (i.start, i.id))
            gap = second.start - first.end
            new[second.id] = second.model_copy(update={"start": first.start})
            new[first.id] = first.model_copy(update={"start": first.start + timedelta(minutes=second.minutes) + gap})
        else:
            new[item.id] = item.model_copy(update={"start": other.start, "room": other.room})
            new[other.id] = other.model_copy(update={"start": item.start, "room": item.room})
    else:
        new[item.id] = None
    out = [new.get(i.id, i) if i.id in new else i for i in items]
    return [i for i in out if i is not None]
