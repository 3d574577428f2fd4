"""The agenda's shape: overlaps and each room's buffer, read from a list of items.

One function for the agenda gate's check (:func:`workflows.lifecycle.checks.agenda_ready`) and for the
agenda editor, which asks the API (``POST /ui/api/events/{id}/agenda/check``) as the person types, so the
page and the gate can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from workflows.messages import AgendaItem, AgendaLayout, AgendaOverlap, RoomBuffer

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
