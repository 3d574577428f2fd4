"""The dev stack's demo conference: its time-lapse calendar, and when an earlier one is reused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from console.dev import DEMO_LEAD_DAYS, _missed_its_day, demo_definition, demo_event
from definitions import definition_hash
from tests.unit.test_lifecycle import on_site
from workflows.lifecycle import Lifecycle

NOW = datetime(2030, 1, 1, 9, 0, 30, tzinfo=timezone.utc)


def test_a_time_lapse_demo_starts_within_its_lead_and_lasts_sixty_of_its_days() -> None:
    pace = timedelta(seconds=10)
    e = demo_event(NOW, pace)
    assert NOW + DEMO_LEAD_DAYS * pace <= e.start <= NOW + DEMO_LEAD_DAYS * pace + timedelta(minutes=1)
    assert e.end - e.start == timedelta(minutes=10)
    assert demo_event(NOW, timedelta(seconds=0.1)).end - demo_event(NOW, timedelta(seconds=0.1)).start == timedelta(
        minutes=1)  # never shorter than a minute: agenda items last minutes
    real = demo_event(NOW, None)
    assert real.start - NOW > timedelta(days=DEMO_LEAD_DAYS - 1) and real.end - real.start == timedelta(days=2, hours=8)
    assert "time-lapse: 1 day = 10 s" in demo_definition(pace).title and "time-lapse" not in demo_definition(None).title


def test_a_demo_left_before_its_day_is_not_reused_once_the_day_has_come() -> None:
    definition = demo_definition(timedelta(seconds=10))
    e = demo_event(NOW, timedelta(seconds=10))
    preparing = Lifecycle.start(definition, e, NOW, definition_hash(definition)).view()
    assert not _missed_its_day(preparing, e.start - timedelta(seconds=1))
    assert _missed_its_day(preparing, e.start + timedelta(seconds=1))
    running = on_site().view()  # a conference that reached its day is followed on, whenever it is
    assert not _missed_its_day(running, running.event.end + timedelta(days=3))
