"""The scripted events the crash tests drive, and what each must end as.

Each event follows one of three scripts, chosen by its index, with acts a real team would send and
some that must be refused whatever happens to the worker:

* ``advance``: preparation done, the budget approved (sent twice at once with one key, as a
  double-clicking client would), then the approval replayed and its key reused for another act
  (refused): ends in ``planning``;
* ``stall``: an approval before the draft (refused), the tasks but no approval: stays in ``preparation``;
* ``cancel``: like ``advance``, then cancelled by the owner: ``cancelled``, every booking released once.

The expected notifications come from the pure lifecycle replaying the accepted acts in their
recorded order: the keys the subscriber must receive, no more, no fewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from definitions import shipped
from tests.reliability.support import Outcome
from tests.support import APPROVER, FINANCE, PM, VENUE, conference
from workflows.lifecycle import Lifecycle
from workflows.messages import (
    Act,
    BudgetLine,
    Cancel,
    CompleteTask,
    Decide,
    EventDetails,
    NotificationRequest,
    RecordBudget,
)

SCRIPTS = ("advance", "stall", "cancel")
EXPECTED_STAGE = {"advance": "planning", "stall": "preparation", "cancel": "cancelled"}

Send = Callable[[str, Any], Awaitable[Outcome]]


@dataclass
class Script:
    details: EventDetails
    kind: str
    outcomes: list[Outcome] = field(default_factory=list)
    acts: dict[str, Act] = field(default_factory=dict)
    must_refuse: set[str] = field(default_factory=set)
    reused_key: str | None = None

    @property
    def event_id(self) -> str:
        return self.details.id

    @property
    def expected_stage(self) -> str:
        return EXPECTED_STAGE[self.kind]

    async def send(self, send: Send, act_: Act, refuse: bool = False) -> Outcome:
        self.acts.setdefault(act_.key, act_)
        if refuse:
            self.must_refuse.add(act_.key)
        outcome = await send(self.event_id, act_)
        self.outcomes.append(outcome)
        return outcome

    async def run(self, send: Send, checkpoint: Callable[[], Awaitable[None]] | None = None) -> None:
        """Send the script's acts one after another; `checkpoint` is awaited once the tasks are done
        (before the first act that makes the workflow run activities)."""
        k = lambda name: f"{self.event_id}.{name}"  # noqa: E731 - a key per act, unique across events
        tasks = [(PM, "theme_purpose"), (PM, "date_checked"), (PM, "team_assigned"), (VENUE, "site_inspection"),
                 (VENUE, "venue_booked")]
        if self.kind == "stall":
            await self.send(send, Decide(key=k("early-approve"), actor=APPROVER, gate="budget_approved",
                                         decision="approve"), refuse=True)
        for actor, task in tasks:
            await self.send(send, CompleteTask(key=k(task), actor=actor, task=task))
        if checkpoint is not None:
            await checkpoint()
        await self.send(send, RecordBudget(key=k("budget"), actor=FINANCE, lines=[
            BudgetLine(category="venue", planned=Decimal("40000")),
            BudgetLine(category="catering", planned=Decimal("30000")),
            BudgetLine(category="contingency", planned=Decimal("8000")),
        ]))
        await self.send(send, CompleteTask(key=k("budget_draft"), actor=FINANCE, task="budget_draft"))
        # Refused whatever the timing: the wrong role, and a rejection without a reason.
        await self.send(send, Decide(key=k("finance-approves"), actor=FINANCE, gate="budget_approved",
                                     decision="approve"), refuse=True)
        await self.send(send, Decide(key=k("reject-no-reason"), actor=APPROVER, gate="budget_approved",
                                     decision="reject"), refuse=True)
        if self.kind == "stall":
            return
        approve = Decide(key=k("approve"), actor=APPROVER, gate="budget_approved", decision="approve",
                         reason="within plan")
        first, second = await asyncio.gather(self.send(send, approve), self.send(send, approve))
        assert first.accepted and second.accepted, (first, second)
        assert first.result == second.result, "one key, one answer"
        replay = await self.send(send, approve)
        assert replay.result == first.result
        # The approval's key reused for another act: refused, and the approval stays as it was.
        self.reused_key = approve.key
        reuse = await send(self.event_id, CompleteTask(key=approve.key, actor=PM, task="notice_published"))
        assert not reuse.accepted and "already used" in (reuse.refusal or ""), reuse
        if self.kind == "cancel":
            await self.send(send, Cancel(key=k("cancel"), actor=PM, reason="sponsor withdrew"))

    # what must hold afterwards -------------------------------------------------------------

    def accepted(self) -> dict[str, Outcome]:
        return {o.key: o for o in self.outcomes if o.accepted}

    def refused(self) -> set[str]:
        return {o.key for o in self.outcomes if not o.accepted}

    def expected_webhook_keys(self, now: datetime) -> set[str]:
        """Replay the accepted acts, in the order the event recorded them, through the pure lifecycle."""
        definition = shipped().get(self.details.kind)
        lc = Lifecycle.start(definition, self.details, now)
        keys: set[str] = set()
        ordered = sorted(self.accepted().values(), key=lambda o: o.result.seq if o.result else 0)
        for outcome in ordered:
            lc.at(now).apply(self.acts[outcome.key])
        keys |= {e.key for e in lc.take_effects() if isinstance(e, NotificationRequest) and e.channel == "webhook"}
        return keys


def scripts(prefix: str, count: int, now: datetime, webhook: str) -> list[Script]:
    out = []
    for i in range(count):
        details = conference(now, event_id=f"{prefix}-{i:04d}", webhooks=[webhook])
        out.append(Script(details=details, kind=SCRIPTS[i % len(SCRIPTS)]))
    return out
