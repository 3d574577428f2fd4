"""The agenda as a calendar (.ics) and as a printable page, from an event's state."""

from __future__ import annotations

import hashlib

from icalendar import Calendar
from icalendar import Event as VEvent
from jinja2 import Environment, select_autoescape

from workflows.messages import StateView

_PAGE = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string(
    """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ s.event.title }}: agenda</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}
 table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #ccc;padding:.35em .5em;text-align:left}
 th{background:#f3f3f3} .shift{color:#a40} @media print{body{margin:0}}
</style></head><body>
<h1>{{ s.event.title }}</h1>
<p>{{ s.event.start.strftime('%Y-%m-%d %H:%M') }} – {{ s.event.end.strftime('%Y-%m-%d %H:%M') }} ({{ s.event.timezone }})
{% if s.event.venue %} · {{ s.event.venue }}{% endif %}</p>
<table><thead><tr><th>{{ t.time }}</th><th>{{ t.minutes }}</th><th>{{ t.item }}</th><th>{{ t.room }}</th>
<th>{{ t.speaker }}</th></tr></thead><tbody>
{% for v in s.agenda %}<tr><td>{{ v.projected_start.strftime('%H:%M') }}
{% if v.shift_minutes >= 1 %}<span class="shift">(+{{ v.shift_minutes|round|int }})</span>{% endif %}</td>
<td>{{ v.item.minutes }}</td><td>{{ v.item.title }} <small>{{ v.item.kind }}</small></td><td>{{ v.item.room }}</td>
<td>{{ speakers.get(v.item.speaker_id, '') }}</td></tr>
{% endfor %}</tbody></table></body></html>
"""
)

_LABELS = {
    "en": {"time": "Time", "minutes": "Min", "item": "Item", "room": "Room", "speaker": "Speaker"},
    "zh": {"time": "時間", "minutes": "分鐘", "item": "議程", "room": "會場", "speaker": "講者"},
}


def agenda_ics(state: StateView) -> bytes:
    """Every agenda item as a VEVENT (stable UIDs, so re-importing updates rather than duplicates)."""
    cal = Calendar()
    cal.add("prodid", "-//Convene//agenda//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{state.event.title}")
    speakers = {s.person.id: s.person.name for s in state.speaker_list}
    for v in state.agenda:
        ev = VEvent()
        uid = hashlib.sha256(f"{state.event.id}/{v.item.id}".encode()).hexdigest()[:32]
        ev.add("uid", f"{uid}@convene")
        ev.add("summary", v.item.title)
        ev.add("dtstart", v.item.start)
        ev.add("dtend", v.item.end)
        ev.add("location", f"{state.event.venue or ''} {v.item.room}".strip())
        if v.item.speaker_id in speakers:
            ev.add("description", f"{v.item.kind}: {speakers[v.item.speaker_id]}")
        cal.add_component(ev)
    return cal.to_ical()


def agenda_html(state: StateView, lang: str | None = None) -> str:
    """A printable agenda page, items shown at their projected (shifted) times."""
    lang = lang or state.event.locale
    speakers = {s.person.id: s.person.name for s in state.speaker_list}
    return _PAGE.render(s=state, t=_LABELS.get(lang, _LABELS["en"]), lang=lang, speakers=speakers)
