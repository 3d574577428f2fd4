"""The pure lifecycle of one event: which acts are legal, what they change, what is due.

A :class:`Lifecycle` wraps a definition, the event's details and its
:class:`~workflows.messages.EventRecord`. The legal moves between stages are
decided by a ``transitions`` Machine compiled from the definition (its
conditions are the gate checks); everything else (who may act, what an act
records, when a deadline's ladder fires) is plain Python over the record.

Nothing here does I/O, reads a clock or imports Temporal: the caller passes
``now``. The workflow is a thin shell around this class, and unit tests drive
it directly.

The package is built in floors, each module importing only those below it:

========================  ====================================================================
``machine``               the stages as a ``transitions`` state machine, and its diagram
``core``                  definition, details, record, time, plain facts, audit bookkeeping
``checks``                one function per gate check kind; a gate's status
``notify``                who is told (roles, people, the roster, calendar updates)
``timers``                deadline ladders and the timers of people and the day
``moves``                 tick, advancing, entering stages, moving dates, cancelling
``handlers_*``            one check and one apply per act, in a table per part of the event
``acts``                  idempotency, authorisation, the handler table
``views``                 the state view, the board summary, the agenda as projected
``__init__``              :class:`Lifecycle`: all of the above, and starting an event
========================  ====================================================================
"""

from __future__ import annotations

from datetime import datetime

from definitions.schema import Definition
from workflows.lifecycle.acts import HANDLERS, Acts, acts_as, allowed_roles, handler_of, role_for
from workflows.lifecycle.core import (
    AUDIT_TAIL,
    EFFECTS_KEPT,
    GUEST,
    IDEMPOTENCY_WINDOW,
    IDEMPOTENCY_WINDOW_DB,
    INVITATION_AGENDA_ITEMS,
    INVITATION_BATCHES,
    LESSONS_TASK,
    REFUSALS_KEPT,
    SYSTEM,
    Compensate,
    Effect,
    RunActivity,
    act_digest,
)
from workflows.lifecycle.machine import machine_config, mermaid_diagram, shared_definition
from workflows.lifecycle.views import Views
from workflows.messages import EventDetails, EventRecord
from workflows.refusals import ActRefused

__all__ = [
    "AUDIT_TAIL", "EFFECTS_KEPT", "GUEST", "HANDLERS", "IDEMPOTENCY_WINDOW", "IDEMPOTENCY_WINDOW_DB",
    "INVITATION_AGENDA_ITEMS", "INVITATION_BATCHES", "LESSONS_TASK", "REFUSALS_KEPT", "SYSTEM", "ActRefused",
    "Compensate", "Effect", "Lifecycle", "RunActivity", "act_digest", "acts_as", "allowed_roles", "handler_of",
    "role_for",
    "machine_config", "mermaid_diagram", "shared_definition",
]


class Lifecycle(Acts, Views):
    """One event's lifecycle over its record. Call :meth:`check` then :meth:`apply` for acts,
    :meth:`tick` when time passes; collect what to do from :attr:`effects`."""

    @classmethod
    def start(cls, definition: Definition, event: EventDetails, now: datetime, definition_hash: str = "",
              roster: str = "database") -> Lifecycle:
        """A new event in its first stage; `roster` is ``memory`` only to replay events recorded before
        the roster moved to the database."""
        first = definition.path()[0]
        record = EventRecord(stage=first, stage_entered_at=now, stages_entered={first: now},
                             roster=roster)  # type: ignore[arg-type]
        lc = cls(definition, event, record, definition_hash)
        lc._now = now
        lc._entered(first)
        lc._settle()
        return lc

