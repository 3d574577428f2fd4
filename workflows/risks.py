"""The risk register in the lifecycle: its check and its act, as pure functions of a Lifecycle.

Risks (likelihood, impact, owner, response, status) live in the database (``store/risks.py``). After each write
the API sends :class:`~workflows.messages.RecordRisks`, the register's summary: how many risks, which high ones
are still open, which of those have no owner (ids capped at ``RISK_IDS_KEPT``). The
:class:`~definitions.schema.RiskRegister` check reads only that. ``workflows/lifecycle.py`` calls in here through
small hooks, as for :mod:`workflows.documents`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from definitions.schema import RiskRegister
from workflows.messages import RecordRisks, RiskFact
from workflows.reasons import Reason, because, because_n

if TYPE_CHECKING:
    from workflows.lifecycle import Lifecycle


def check_reasons(lc: Lifecycle, check: Any) -> list[Reason] | None:
    """Why the register's check does not hold yet ([] when it holds); None for a check that is not ours."""
    if not isinstance(check, RiskRegister):
        return None
    fact = lc.record.risks
    count = fact.count if fact is not None else 0
    if count < check.min_risks:
        if count == 0:
            return [because("no risk register kept yet")]
        return [because_n("the risk register holds %(count)s risk; at least %(min)s expected",
                          "the risk register holds %(count)s risks; at least %(min)s expected", count,
                          min=check.min_risks)]
    return [because("high risk %(risk)s has no owner", risk=r) for r in (fact.high_unowned if fact else [])]


def check_record_risks(lc: Lifecycle, act: RecordRisks) -> None:
    """Any summary is taken (an older one is ignored in :func:`apply_record_risks`)."""


def apply_record_risks(lc: Lifecycle, act: RecordRisks) -> str:
    known = lc.record.risks
    if known is not None and known.revision >= act.revision:
        return f"risk register summary r{act.revision} ignored (r{known.revision} is newer)"
    lc.record.risks = RiskFact(revision=act.revision, count=act.count, high_open=list(act.high_open),
                               high_unowned=list(act.high_unowned), at=lc.now)
    return (f"risk register: {act.count} risk(s), {len(act.high_open)} high open, "
            f"{len(act.high_unowned)} high without an owner")
