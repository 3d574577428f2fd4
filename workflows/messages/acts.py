"""Every act a person (or the engine) can do to an event: one class each, declaring its update and who may do it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    Field,
    model_validator,
)

from definitions.schema import IncidentCategory
from workflows.messages.base import Actor, EventTime, Person, SafeId, _In
from workflows.refusals import invalid as _invalid

if TYPE_CHECKING:
    from definitions.schema import Definition

ACT_NAMES: dict[type[Act], str] = {}
"""Every act class and its update name (the name a Temporal client uses), in the order they are declared:
filled by :class:`Act` itself as each act class is made, so an act is declared once, by its class."""


class Act(_In):
    """One thing a person (or the engine) does to an event: a Temporal update of the event's workflow.

    A concrete act declares, once, on its class:

    - ``update``: the update's name (``temporal workflow update execute --name <update>``); the workflow
      registers one update per act class, the API one route, from :data:`ACT_NAMES`.
    - ``permission``: who may do it, as fields of the definition's ``permissions`` table: the first that
      names any role decides, else the definition's owner role. Acts whose roles come from what they
      name (a gate's approvers, a task's owner) override :meth:`roles` instead.
    """

    update: ClassVar[str] = ""
    permission: ClassVar[tuple[str, ...]] = ()
    self_service: ClassVar[str | None] = None
    """The field naming the person this act is about, when that person may do it themselves (a speaker
    answering through their personal link, as the role ``guest``); None: only the team acts."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__dict__.get("update"):
            ACT_NAMES[cls] = cls.update

    @classmethod
    def permitted_roles(cls, definition: Definition) -> list[str]:
        """The roles the definition's permissions table allows for this kind of act: the first of
        ``permission``'s fields that names any role, else the owner role."""
        p = definition.permissions
        named: list[str] = next((getattr(p, field) for field in cls.permission if getattr(p, field)), [])
        return list(named) or [definition.owner_role]

    def roles(self, definition: Definition) -> list[str]:
        """The roles that may do this act on an event of `definition` (the workflow's validator and the API
        both ask this, so their rules cannot drift apart).

        Raises:
            ActRefused: the act names a gate or task the definition does not have.
        """
        return self.permitted_roles(definition)

    key: str = Field(
        min_length=1,
        max_length=200,
        description="Idempotency key: the same key twice is applied once and answers the same.",
    )
    actor: Actor
    reason: str | None = Field(default=None, max_length=2000)


class Decide(Act):
    """Approve, reject or waive a gate. Approving and rejecting take one of the gate's approver roles;
    waiving takes the definition's ``permissions.waive`` (nobody when it names nobody)."""

    update = "decide"

    gate: str = Field(max_length=64)
    decision: Literal["approve", "reject", "waive"]

    def roles(self, definition: Definition) -> list[str]:
        return self.roles_for(definition, self.gate, self.decision)

    @staticmethod
    def roles_for(definition: Definition, gate_id: str, decision: str) -> list[str]:
        """Who may take `decision` on the gate `gate_id`.

        Raises:
            ActRefused: no such gate.
        """
        try:
            _, gate = definition.gate(gate_id)
        except KeyError:
            raise _invalid("unknown gate %(gate)r", gate=gate_id) from None
        if decision == "waive":
            return list(definition.permissions.waive)
        return list(gate.approval.roles) if gate.approval else []


class CompleteTask(Act):
    """Mark a task done: its owner role, or a role in ``permissions.complete_task``."""

    update = "complete_task"

    task: str = Field(max_length=64)
    note: str | None = Field(default=None, max_length=2000)

    def roles(self, definition: Definition) -> list[str]:
        return self.roles_for(definition, self.task)

    @staticmethod
    def roles_for(definition: Definition, task_id: str) -> list[str]:
        """Who may complete the task `task_id`: its owner, and the roles of ``permissions.complete_task``.

        Raises:
            ActRefused: no such task.
        """
        try:
            _, task = definition.task(task_id)
        except KeyError:
            raise _invalid("unknown task %(task)r", task=task_id) from None
        return list(dict.fromkeys([task.owner, *definition.permissions.complete_task]))


class BudgetLine(_In):
    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    planned: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    actual: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    note: str | None = Field(default=None, max_length=500)


class RecordBudget(Act):
    update = "record_budget"
    permission = ("record_budget",)

    lines: list[BudgetLine] = Field(min_length=1, max_length=100)


class RemoveBudgetLine(Act):
    """Remove a budget line recorded by mistake (the budget editor's delete button)."""

    update = "remove_budget_line"
    permission = ("record_budget",)

    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")


class InviteSpeaker(Act):
    update = "invite_speaker"
    permission = ("manage_speakers",)

    speaker: Person
    slot: Literal["keynote", "session", "panel", "special_guest"] = "session"
    topic: str | None = Field(default=None, max_length=300)


class SpeakerReply(Act):
    update = "speaker_reply"
    self_service = "speaker_id"
    permission = ("manage_speakers",)

    speaker_id: SafeId
    response: Literal["accepted", "declined"]


class Itinerary(_In):
    arrival: AwareDatetime | None = None
    lodging: str | None = Field(default=None, max_length=300)
    pickup: str | None = Field(default=None, max_length=300)
    meals: str | None = Field(default=None, max_length=300)


class SpeakerItinerary(Act):
    """Record a confirmed speaker's itinerary (arrival, lodging, pick-up): the speaker is then confirmed."""

    update = "speaker_itinerary"
    self_service = "speaker_id"
    permission = ("manage_speakers",)

    speaker_id: SafeId
    itinerary: Itinerary


ItemKind = Literal["opening", "keynote", "session", "breakout", "panel", "qa", "break", "meal", "closing"]


class AgendaItem(_In):
    id: SafeId
    kind: ItemKind
    title: str = Field(min_length=1, max_length=300)
    start: EventTime
    minutes: int = Field(ge=1, le=24 * 60)
    room: str = Field(default="main", min_length=1, max_length=100)
    speaker_id: SafeId | None = None
    importance: int = Field(default=3, ge=1, le=5)

    @property
    def end(self) -> datetime:
        from datetime import timedelta

        return self.start + timedelta(minutes=self.minutes)


class SetAgenda(Act):
    """Replace the agenda (the timetable from opening to close)."""

    update = "set_agenda"
    permission = ("manage_agenda", "manage_speakers")

    items: list[AgendaItem] = Field(min_length=1, max_length=500)


class StartItem(Act):
    """On the day: an agenda item starts now (time control)."""

    update = "start_item"
    permission = ("run_programme", "record_incident")

    item_id: SafeId


class EndItem(Act):
    update = "end_item"
    permission = ("run_programme", "record_incident")

    item_id: SafeId


Need = Literal["accessibility", "translation", "diet", "elderly", "other"]


class Attendee(Person):
    category: Literal["expert", "partner", "prospect", "investor", "internal", "media", "other"] = "other"
    key_client: bool = False
    needs: list[Need] = Field(default_factory=list, max_length=5)
    needs_note: str | None = Field(default=None, max_length=500)


class InvitationBatchRef(_In):
    """A batch of attendees already written to the roster database (by the API or the CLI)."""

    id: str = Field(min_length=1, max_length=200, description="The batch id the roster rows carry.")
    count: int = Field(ge=1, le=1_000_000, description="How many people the batch added.")


INLINE_INVITATIONS = 200
"""At most this many attendees travel inside one act to an event whose roster is in the database;
more go through the roster first (``batch``), so no payload grows with the roster."""


class InviteAttendees(Act):
    """Invite attendees: either listed here (any Temporal client; at most :data:`INLINE_INVITATIONS` for an
    event whose roster lives in the database) or as a ``batch`` already in the roster database (the API
    and CLI write the rows first, so 50,000 people cost one small act)."""

    update = "invite_attendees"
    permission = ("manage_attendees",)

    attendees: list[Attendee] = Field(default_factory=list, max_length=1000)
    batch: InvitationBatchRef | None = None

    @model_validator(mode="after")
    def _one_of(self) -> InviteAttendees:
        if bool(self.attendees) == (self.batch is not None):
            raise ValueError("give either attendees or a batch, not both and not neither")
        return self


class Rsvp(Act):
    update = "rsvp"
    permission = ("manage_attendees",)

    attendee_id: SafeId
    response: Literal["yes", "no", "maybe"]


class CheckIn(Act):
    update = "check_in"
    permission = ("manage_attendees",)

    attendee_id: SafeId
    desk: str | None = Field(default=None, max_length=64, description="Which desk or lane checked them in.")


class ReportIncident(Act):
    update = "report_incident"
    permission = ("record_incident",)

    incident_id: SafeId
    category: IncidentCategory
    severity: Literal["low", "medium", "high"]
    summary: str = Field(min_length=1, max_length=2000)
    owner: str | None = Field(default=None, max_length=64, description=(
        "The role that handles it; None: the role the emergency plan names for the category, if any."))


class AcknowledgeIncident(Act):
    update = "acknowledge_incident"
    permission = ("record_incident",)

    incident_id: SafeId
    action: str | None = Field(default=None, max_length=2000, description="What is being done.")


class ResolveIncident(Act):
    update = "resolve_incident"
    permission = ("record_incident",)

    incident_id: SafeId


class SurveyResponse(_In):
    respondent: SafeId
    content: int = Field(ge=1, le=5)
    organisation: int = Field(ge=1, le=5)
    service: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class RecordSurvey(Act):
    update = "record_survey"
    permission = ("record_survey",)

    responses: list[SurveyResponse] = Field(min_length=1, max_length=1000)


class SendBack(Act):
    update = "send_back"
    permission = ("send_back",)

    to_stage: str = Field(max_length=64)


class Postpone(Act):
    update = "postpone"
    permission = ("postpone",)

    new_start: EventTime
    new_end: EventTime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Postpone:
        if self.new_end <= self.new_start:
            raise ValueError("new_end must be after new_start")
        return self


class Cancel(Act):
    update = "cancel"
    permission = ("cancel",)

    reason: str = Field(min_length=1, max_length=2000)  # a cancellation always says why


AnyAct = Act
"""Any act (every act is an :class:`Act`; :data:`ACT_NAMES` lists them)."""


ACT_UPDATE_PREFIX = "act:"
"""Update ids that start with this ask for final refusals: the workflow decides such an act in its handler
and remembers a refusal with the key (see :func:`act_update_id`)."""


def act_update_id(key: str) -> str:
    """The Temporal update id for an act with idempotency key `key`: one key, one update, so the server itself
    answers a resend of the key within a run, and the workflow keeps a refusal of it for good.

    ``act:<key>`` when the key is short and printable, else ``act:sha256:<hex>`` (at most 75 characters).
    """
    if len(key) <= 128 and key.isprintable() and key.isascii():
        return ACT_UPDATE_PREFIX + key
    return f"{ACT_UPDATE_PREFIX}sha256:{hashlib.sha256(key.encode()).hexdigest()}"



