"""The agenda calendar (.ics): times in the event's IANA zone with its VTIMEZONE, a DTSTAMP on every
VEVENT, and read back by the icalendar library as the same instants (issue 17, item 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from console.agenda_exports import agenda_html, agenda_ics

NOW = datetime(2030, 1, 15, 8, 30, tzinfo=UTC)


def _state(zone: str, start: datetime, minutes: int = 45):
    item = SimpleNamespace(id="i1", title="年度技术大会 opening", start=start, end=start + timedelta(minutes=minutes),
                           room="A", speaker_id=None, kind="talk")
    event = SimpleNamespace(id="ev-1", title="Summit", venue="上海国际会议中心", timezone=zone)
    return SimpleNamespace(event=event, speaker_list=[], agenda=[SimpleNamespace(item=item)])


def _read(raw: bytes):
    cal = Calendar.from_ical(raw)
    (event,) = cal.walk("VEVENT")
    return cal, event


def test_a_paris_item_saved_at_plus_two_is_written_with_tzid_europe_paris():
    """The issue's input: an item at 2030-05-01T09:00:00+02:00 in a Europe/Paris event."""
    start = datetime.fromisoformat("2030-05-01T09:00:00+02:00")
    raw = agenda_ics(_state("Europe/Paris", start), now=NOW)
    text = raw.decode()
    assert "DTSTART;TZID=Europe/Paris:20300501T090000\r\n" in text
    assert '"+02:00"' not in text and "TZID:Europe/Paris\r\n" in text  # a VTIMEZONE for the zone used
    cal, event = _read(raw)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert cal.get_missing_tzids() == set()
    assert event.decoded("dtstart") == start and event.decoded("dtstart").utcoffset() == timedelta(hours=2)
    assert event.decoded("dtstart").astimezone(UTC) == datetime(2030, 5, 1, 7, 0, tzinfo=UTC)
    assert event.decoded("dtend") == start + timedelta(minutes=45)
    assert event.decoded("dtstamp") == NOW


def test_a_shanghai_item_given_in_utc_is_written_in_shanghai_time():
    """Another zone, the time given in UTC: written 09:00 Asia/Shanghai, read back as the same instant."""
    start = datetime(2030, 11, 3, 1, 0, tzinfo=UTC)
    cal, event = _read(agenda_ics(_state("Asia/Shanghai", start), now=NOW))
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("dtstart") == start
    assert event.decoded("dtstart").astimezone(ZoneInfo("Asia/Shanghai")).hour == 9
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert str(event["LOCATION"]) == "上海国际会议中心 A" and "DTSTAMP" in event


@pytest.mark.parametrize(("zone", "start"), [
    ("UTC", datetime(2030, 11, 3, 5, 30, tzinfo=UTC)),
    ("America/New_York", datetime(2030, 11, 3, 5, 30, tzinfo=UTC)),  # 01:30 EDT, the first pass of the hour
    ("America/New_York", datetime(2030, 11, 3, 6, 30, tzinfo=UTC)),  # 01:30 EST, the second pass: written in UTC
])
def test_every_vevent_has_a_dtstamp_and_round_trips(zone: str, start: datetime):
    """A UTC event is written ``...Z`` without a VTIMEZONE; a New York one on the autumn clock change keeps
    its instant through the repeated hour; a DTSTAMP on every VEVENT."""
    raw = agenda_ics(_state(zone, start, minutes=120), now=NOW)
    cal, event = _read(raw)
    assert event.decoded("dtstart").astimezone(UTC) == start
    assert event.decoded("dtend").astimezone(UTC) == start + timedelta(minutes=120)
    assert event.decoded("dtstamp") == NOW and cal.get_missing_tzids() == set()
    if zone == "UTC":
        assert b"DTSTART:20301103T053000Z\r\n" in raw and cal.walk("VTIMEZONE") == []
    elif start.hour == 6:
        assert b"DTSTART:20301103T063000Z\r\n" in raw
    else:
        assert b"DTSTART;TZID=America/New_York:20301103T013000\r\n" in raw


def _page_state(zone: str, locale: str):
    start = datetime(2030, 5, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    state = _state(zone, start)
    state.event.start, state.event.end, state.event.locale = start, start + timedelta(hours=8), locale
    state.agenda[0].projected_start, state.agenda[0].shift_minutes = start, 0
    state.agenda[0].item.minutes, state.agenda[0].item.speaker_id = 45, None
    return state


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", ["<title>Summit: agenda</title>", "Wednesday, 1 May 2030, 09:00 to Wednesday, 1 May 2030, 17:00 "
            "(Asia/Shanghai)", "<th>Speaker</th>", '<html lang="en">']),
    ("zh", ["<title>Summit：议程</title>", "2030年5月1日星期三 09:00 至 2030年5月1日星期三 17:00（Asia/Shanghai）",
            "<th>演讲嘉宾</th>", '<html lang="zh-Hans">']),
    ("zh-Hant", ["<title>Summit：議程</title>", "<th>講者</th>", "<td>上午9:00", '<html lang="zh-Hant">']),
])
def test_the_printable_agenda_reads_in_the_event_language_in_the_event_zone(locale: str, expected: list[str]):
    """The printable page's labels come from the catalogue and its dates from CLDR, in the event's zone (a
    01:00 UTC start prints as 09:00 in Shanghai); a stored ``zh`` is Simplified Chinese."""
    page = agenda_html(_page_state("Asia/Shanghai", locale))
    for text in expected:
        assert text in page
    assert "01:00" not in page
