"""Meeting documents in the lifecycle: the two checks and the two acts, as pure functions of a Lifecycle.

The files, their versions and every receipt live in the database (``store/documents.py``); the API, after
writing one, tells the workflow the small fact its gates need:

* :class:`~workflows.messages.RecordDocument`: "type X is there as version n" (the record keeps the newest
  per type, so it is bounded by the definition's ``archive_includes``). A new version takes back the
  approval of any gate that checks that type and was approved in a stage not yet left: the chair approves
  the minutes as they stand, not as they may later read.
* :class:`~workflows.messages.AcknowledgePapers`: "person P acknowledged the papers" (the first time kept;
  bounded by the team's size).

The checks (:class:`~definitions.schema.DocumentsPresent`, :class:`~definitions.schema.PapersAcknowledged`)
read only those facts, the team and the event's dates: deterministic, no I/O. ``workflows/lifecycle.py``
calls in here through small hooks (its ``_check_reasons``, ``_authorize``, ``allowed_roles`` and one
``_check_``/``_apply_`` pair per act).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from definitions.schema import DocumentsPresent, PapersAcknowledged
from workflows.messages import AcknowledgePapers, AnyAct, DocumentFact, RecordDocument
from workflows.reasons import Reason, because, because_n
from workflows.refusals import invalid as _invalid  # the name pybabel extracts refusals by

if TYPE_CHECKING:
    from workflows.lifecycle import Lifecycle


def check_reasons(lc: Lifecycle, check: Any) -> list[Reason] | None:
    """Why a documents check does not hold yet ([] when it holds); None for a check that is not ours."""
    if isinstance(check, DocumentsPresent):
        return [because("no %(document)s attached yet", document=t) for t in check.types
                if t not in lc.record.documents]
    if isinstance(check, PapersAcknowledged):
        return _acknowledged_reasons(lc, check)
    return None


def _acknowledged_reasons(lc: Lifecycle, check: PapersAcknowledged) -> list[Reason]:
    missing = [t for t in check.types if t not in lc.record.documents]
    if missing:
        return [because("no %(document)s attached yet", document=t) for t in missing]
    people = lc.event.team.get(check.role, [])
    if not people:
        return [because("the team names nobody as %(role)s", role=check.role)]
    by = lc._plus(lc.event.start, -check.days_before_start)
    late = sorted(p.id for p in people if p.id not in lc.record.receipts or lc.record.receipts[p.id] > by)
    if not late:
        return []
    done = len(people) - len(late)
    return [because_n(
        "%(done)s of %(count)s %(role)s acknowledged the papers in time (missing: %(people)s)",
        "%(done)s of %(count)s %(role)s acknowledged the papers in time (missing: %(people)s)", len(people),
        english=f"{done} of {len(people)} {check.role} acknowledged the papers by {by.isoformat()} "
                f"(missing: {', '.join(late[:5])})",
        done=done, role=check.role, people=late[:5],
    )]


def papers_checks(lc: Lifecycle) -> list[PapersAcknowledged]:
    return [c for s in lc.definition.stages for g in s.gates for c in g.checks if isinstance(c, PapersAcknowledged)]


def guest_may(lc: Lifecycle, act: AnyAct) -> bool:
    """A person outside the staff roles may acknowledge the papers for themselves, when the team names them in a
    papers role (a board member on their own page)."""
    if not isinstance(act, AcknowledgePapers) or act.person_id != act.actor.id:
        return False
    return any(act.person_id in {p.id for p in lc.event.team.get(c.role, [])} for c in papers_checks(lc))


def check_record_document(lc: Lifecycle, act: RecordDocument) -> None:
    """Refuse a type the definition does not archive. Versions count per type and title in the database, so
    the fact kept is the newest arrival of the type, whatever its number."""
    if act.doc_type not in lc.definition.archive_includes:
        raise _invalid("unknown document type %(document)r (this kind keeps: %(types)s)", document=act.doc_type,
                      types=", ".join(lc.definition.archive_includes) or "none")


def apply_record_document(lc: Lifecycle, act: RecordDocument) -> str:
    lc.record.documents[act.doc_type] = DocumentFact(version=act.version, sha256=act.sha256, at=lc.now,
                                                     by=act.actor.id)
    summary = f"document {act.doc_type} v{act.version} attached (sha256 {act.sha256[:12]})"
    for stage in lc.definition.stages:
        if lc._is_past(stage.id):
            continue
        for gate in stage.gates:
            rec = lc.record.gates.get(gate.id)
            named = any(isinstance(c, DocumentsPresent) and act.doc_type in c.types for c in gate.checks)
            if named and gate.approval and rec is not None and rec.decision == "approved":
                del lc.record.gates[gate.id]
                summary += f"; the approval of {gate.id} is taken back (a new version needs a new approval)"
    return summary


def check_acknowledge_papers(lc: Lifecycle, act: AcknowledgePapers) -> None:
    roles = {c.role for c in papers_checks(lc)}
    if not roles:
        raise _invalid("a %(kind)s sends no papers to acknowledge", kind=lc.definition.kind)
    if not any(act.person_id in {p.id for p in lc.event.team.get(r, [])} for r in roles):
        raise _invalid("%(person)s is not named as %(roles)s for this event", person=act.person_id,
                      roles=" or ".join(sorted(roles)))


def apply_acknowledge_papers(lc: Lifecycle, act: AcknowledgePapers) -> str:
    first = lc.record.receipts.setdefault(act.person_id, lc.now)
    if first != lc.now:
        return f"papers acknowledged again by {act.person_id} (first at {first.isoformat()})"
    return f"papers acknowledged by {act.person_id}"
