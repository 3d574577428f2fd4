"""The emergency plan: who owns each incident category on site, how to reach them, what they do first. Small
and bounded by the incident categories, so the workflow keeps it (the emergency_plan check reads it, and an
incident reported without an owner takes the plan's)."""

from __future__ import annotations

from pydantic import Field

from definitions.schema import IncidentCategory
from workflows.messages.acts import Act
from workflows.messages.base import _In


class EmergencyContact(_In):
    """One scenario of the emergency plan: who owns an incident category on site, how to reach them, what
    they do first."""

    category: IncidentCategory
    role: str = Field(min_length=1, max_length=64, description="The owner role (one of the definition's roles).")
    person: str = Field(min_length=1, max_length=200, description="Who holds the role on the day (a name).")
    phone: str = Field(min_length=3, max_length=40, pattern=r"^\+?[0-9][0-9 ()./-]*[0-9)]$",
                       description="A number that reaches that person on the day: digits, spaces and ( ) . / - "
                                   "after an optional +, ending in a digit or ).")
    first_steps: list[str] = Field(default_factory=list, max_length=20, description="What to do first, in order.")


class RecordEmergencyPlan(Act):
    """Set the event's emergency plan (replacing the one recorded): one entry per incident category."""

    update = "record_emergency_plan"
    permission = ("record_incident",)

    entries: list[EmergencyContact] = Field(min_length=1, max_length=20)
