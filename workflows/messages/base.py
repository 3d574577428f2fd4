"""The event and the people in it: the input types every other message builds on."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from convene.languages import stored_locale

SafeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]


def _plausible_year(value: datetime) -> datetime:
    if not 1970 <= value.year <= 2200:
        raise ValueError("the date must fall between the years 1970 and 2200")
    return value


EventTime = Annotated[AwareDatetime, AfterValidator(_plausible_year)]
"""An aware date-time in a plausible year: deadlines are computed from it, months either side,
so a date near the ends of the calendar would overflow inside the workflow."""
"""Ids of events and people: no slashes, no leading dot, so they can never escape a folder."""

Locale = Annotated[Literal["en", "zh", "zh-Hans", "zh-Hant"], BeforeValidator(stored_locale)]
"""A reader's language: ``en``, ``zh-Hans``, ``zh-Hant`` (any spelling: ``zh-CN`` → ``zh-Hans``, ``zh_TW`` →
``zh-Hant``, ``en-US`` → ``en``). ``zh``, which events and people stored before there were two Chinese
catalogues, is kept as written and means ``zh-Hans`` (see :mod:`convene.languages`)."""


class _In(BaseModel):
    """Inputs refuse unknown keys: a typo in a payload is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- the event -----------------------------------------------------------------------------


class Person(_In):
    id: SafeId
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    locale: Locale | None = None
    webhook_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class EventDetails(_In):
    """What ops give when starting an event."""

    id: SafeId
    title: str = Field(min_length=1, max_length=300)
    kind: str = Field(min_length=1, max_length=64)
    start: EventTime
    end: EventTime
    timezone: str = "UTC"
    venue: str | None = Field(default=None, max_length=300)
    expected_attendees: int = Field(default=0, ge=0, le=1_000_000)
    capacity: int | None = Field(default=None, ge=1, le=1_000_000, description=(
        "Places for attendees (yes answers and places offered from the waiting list); None: no limit. With "
        "open registration, people beyond it join the waiting list."))
    budget_limit: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    owner: SafeId = Field(description="The person who owns the event (holds the definition's owner role).")
    locale: Locale = "en"
    keynote_slots: int | None = Field(
        default=None, ge=0, le=100, description="Keynote speakers needed when there is no agenda yet; default 1."
    )
    team: dict[str, list[Person]] = Field(
        default_factory=dict,
        description="People per role. A role listed here may only be acted as by these people.",
    )
    webhooks: list[Annotated[str, Field(max_length=2000, pattern=r"^https?://")]] = Field(default_factory=list)
    fee: str | None = Field(default=None, max_length=300, description=(
        "What attending costs, as invitations state it (e.g. \"EUR 120, lunch included\"); None: not stated."))
    contact: str | None = Field(default=None, max_length=300, description=(
        "The named contact for attendees' questions (name, email or phone), as invitations state it."))
    organisation: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$",
                                     description=(
        "Who owns the event: its readers by organisation grant and its organisation's webhook subscriptions. "
        "The API sets it from the starting principal's organisation (another needs an admin of it)."))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds
            raise ValueError(f"unknown time zone {tz!r}") from None
        return tz

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventDetails:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Actor(_In):
    """Who does an act. The API fills this from the authenticated principal."""

    id: SafeId
    role: str = Field(min_length=1, max_length=64)


