"""The risk register in the database (store/risks.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from store.db import Database
from store.risks import KeyReused, Risks

AT = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)


def _put(risks: Risks, key: str, risk_id: str, likelihood: int, impact: int, owner: str | None = None,
         status: str = "open"):
    return risks.put(event_id="e1", risk_id=risk_id, key=key, title=f"risk {risk_id}", likelihood=likelihood,
                     impact=impact, owner=owner, response="reduce", status=status, by="sue", at=AT)


async def test_changes_are_versioned_idempotent_and_summarised(db: Database) -> None:
    """A key is one change (again: nothing new; with other content: refused); a change that changes nothing is
    none; the revision counts changes; the summary names open high risks by score and those without an owner."""
    risks = Risks(db)
    r1, made = await _put(risks, "k1", "r1", 4, 4)
    assert (r1.version, r1.score, made) == (1, 16, True)
    assert (await _put(risks, "k1", "r1", 4, 4))[1] is False
    with pytest.raises(KeyReused):
        await _put(risks, "k1", "r1", 1, 1)
    assert (await _put(risks, "k9", "r1", 4, 4))[1] is False  # the same content under a new key: no change
    await _put(risks, "k2", "r2", 5, 5, owner="cal")
    await _put(risks, "k3", "r3", 1, 2)
    await _put(risks, "k4", "r4", 3, 5, status="closed")
    register = await risks.register("e1")
    assert register.revision == 4 and [r.risk_id for r in register.risks] == ["r1", "r2", "r3", "r4"]
    assert register.summary(12, 50) == (4, ["r2", "r1"], ["r1"])
    r1, made = await _put(risks, "k5", "r1", 4, 4, owner="sue")
    assert (r1.version, made) == (2, True)
    register = await risks.register("e1")
    assert register.revision == 5 and register.summary(12, 1) == (4, ["r2"], [])
    assert (await risks.register("e2")).revision == 0
