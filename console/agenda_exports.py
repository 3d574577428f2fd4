"""The agenda as a calendar (.ics) and as a printable page, from an event's state."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as VEvent
from jinja2 import Environment, select_autoescape

from convene import i18n
from workflows.messages import StateView

_PAGE = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string(
    """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ t.heading }}</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}
 table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #ccc;padding:.35em .5em;text-align:left}
 th{background:#f3f3f3} .shift{color:#a40} @media print{body{margin:0}}
</style></head><body>
<h1>{{ s.event.title }}</h1>
<p>{{ t.when }}
{% if s.event.venue %} · {{ s.event.venue }}{% endif %}</p>
<table><thead><tr><th>{{ t.time }}</th><th>{{ t.minutes }}</th><th>{{ t.item }}</th><th>{{ t.room }}</th>
<th>{{ t.speaker }}</th></tr></thead><tbody>
{% for v in s.agenda %}<tr><td>{{ clock(v.projected_start) }}
{% if v.shift_minutes >= 1 %}<span class="shift">(+{{ v.shift_minutes|round|int }})</span>{% endif %}</td>
<td>{{ v.item.minutes }}</td><td>{{ v.item.title }} <small>{{ v.item.kind }}</small></td><td>{{ v.item.room }}</td>
<td>{{ speakers.get(v.item.speaker_id, '') }}</td></tr>
{% endfor %}</tbody></table></body></html>
"""
)



def agenda_ics(state: StateView, now: datetime | None = None) -> bytes:
    """Every agenda item as a VEVENT (stable UIDs, so re-importing updates rather than duplicates).

    Times are written in the event's zone as ``TZID=<IANA zone>`` with the zone's VTIMEZONE (UTC ``...Z``
    for a UTC event), never as a bare offset, so every calendar reads the same instant; each VEVENT has a
    DTSTAMP (``now``, default the current time, in UTC).
    """
    zone = ZoneInfo(state.event.timezone or "UTC")
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", "-//Convene//agenda//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{state.event.title}")
    cal.add("x-wr-timezone", zone.key)
    speakers = {s.person.id: s.person.name for s in state.speaker_list}
    for v in state.agenda:
        ev = VEvent()
        uid = hashlib.sha256(f"{state.event.id}/{v.item.id}".encode()).hexdigest()[:32]
        ev.add("uid", f"{uid}@convene")
        ev.add("dtstamp", stamp)
        ev.add("summary", v.item.title)
        ev.add("dtstart", _in_zone(v.item.start, zone))
        ev.add("dtend", _in_zone(v.item.end, zone))
        ev.add("location", f"{state.event.venue or ''} {v.item.room}".strip())
        if v.item.speaker_id in speakers:
            ev.add("description", f"{v.item.kind}: {speakers[v.item.speaker_id]}")
        cal.add_component(ev)
    if state.agenda:  # a VTIMEZONE for every TZID used (none for UTC), covering the agenda's dates
        first = min(v.item.start for v in state.agenda).date() - timedelta(days=366)
        last = max(v.item.end for v in state.agenda).date() + timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()


def _in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware time in the event's zone, or in UTC (written ``...Z``) for a UTC event and for the second
    pass of a repeated hour (RFC 5545 reads an ambiguous local time as its first occurrence)."""
    if moment.tzinfo is None:  # never expected (EventTime is aware); read as UTC rather than floating
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    if zone.key in ("UTC", "Etc/UTC") or local.fold:
        return moment.astimezone(UTC)
    return local


def agenda_html(state: StateView, lang: str | None = None) -> str:
    """A printable agenda page in ``lang`` (default the event's language; any tag, see :func:`convene.i18n.resolve`),
    items shown at their projected (shifted) times in the event's zone, dates and times as CLDR writes them."""
    lang = i18n.resolve(lang or state.event.locale)
    zone = state.event.timezone or "UTC"
    speakers = {s.person.id: s.person.name for s in state.speaker_list}
    when = i18n.translate(lang, "%(start)s to %(end)s",
                          start=i18n.format_when(state.event.start, zone, lang, name_zone=False),
                          end=i18n.format_when(state.event.end, zone, lang, name_zone=False))
    labels = {
        "heading": i18n.translate(lang, "%(title)s: agenda", title=state.event.title),
        "when": i18n.with_zone(when, zone, lang),
        "time": i18n.translate(lang, "Time"),
        "minutes": i18n.translate(lang, "Min"),
        "item": i18n.translate(lang, "Item"),
        "room": i18n.translate(lang, "Room"),
        "speaker": i18n.translate(lang, "Speaker"),
    }
    return _PAGE.render(s=state, t=labels, lang=lang, speakers=speakers,
                        clock=lambda at: i18n.format_clock(at, zone, lang))
