"""A definition's calendar compressed, for demos and rehearsals: one day lasts a few seconds.

``timelapse(conference, timedelta(seconds=10))`` is the same lifecycle (stages, tasks, gates,
roles, ladders) whose day-scale times all shrink by the same factor: task due dates and run
times, deadlines and their ladder steps, a ladder's postponement, the invitations' lead time and
the speaker reminders. What happens within the day is left as it is: the event's own start and
end (set per event), the agenda's minutes, and how long a high-severity incident may wait for
an acknowledgement. A demo event can then be walked from preparation to closed in half an hour,
with its reminders and escalations firing on the way, by the same workflow that runs real events.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from definitions.schema import Definition

DAY = timedelta(days=1)

_OFFSET_KEYS = ("days", "hours")
"""An Offset's fields (task due / run_at, deadline at)."""
_SCALED_KEYS = ("offset_days", "offset_hours", "postpone_days", "days_before_start")
"""Day-scale numbers elsewhere: ladder steps, a ladder's postponement, the invitations check."""


def describe_pace(day: timedelta) -> str:
    """``1 day = 10 s``."""
    seconds = day.total_seconds()
    if seconds >= 3600:
        return f"1 day = {seconds / 3600:g} h"
    if seconds >= 60:
        return f"1 day = {seconds / 60:g} min"
    return f"1 day = {seconds:g} s"


def timelapse(definition: Definition, day: timedelta) -> Definition:
    """`definition` with every day-scale time multiplied by ``day / 1 day`` (see the module's docstring).

    The result is checked like any definition (a compressed deadline still may not fall after the
    start it precedes, and so on) and its title says its pace, so nobody mistakes it for the real one.

    Raises:
        ValueError: `day` is not positive or is longer than a day.
    """
    if not timedelta(0) < day <= DAY:
        raise ValueError(f"a time-lapse day must last more than 0 and at most a day, not {day}")
    factor = day / DAY

    def scale(node: Any) -> Any:
        if isinstance(node, list):
            return [scale(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: scale(value) for key, value in node.items()}
        if "anchor" in out:  # an Offset
            for key in _OFFSET_KEYS:
                if out.get(key):
                    out[key] = out[key] * factor
        for key in _SCALED_KEYS:
            if out.get(key):
                out[key] = out[key] * factor
        return out

    data = scale(definition.model_dump(mode="python"))
    data["speaker_reminder_days"] = [d * factor for d in definition.speaker_reminder_days]
    data["title"] = f"{definition.title} (time-lapse: {describe_pace(day)})"
    return Definition.model_validate(data)
