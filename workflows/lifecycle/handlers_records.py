"""Acts about the meeting's substance kept in the database: documents attached, the papers acknowledged, the
risk register's summary, how many objectives and outcomes are recorded. The files, every version, every receipt and every risk live in the database
(``store/documents.py``, ``store/risks.py``); after writing, the API sends the small fact the gates need, so the
record stays bounded by the definition (one fact per document type, one receipt per team member, one summary).
Each act's ``check_``/``apply_`` pair is listed in :data:`HANDLERS`."""

from __future__ import annotations

from definitions.schema import DocumentsPresent
from workflows.lifecycle.checks import papers_checks
from workflows.lifecycle.handler import Handler
from workflows.lifecycle.moves import Moves
from workflows.messages import (
    AcknowledgePapers,
    Act,
    DocumentFact,
    ObjectivesFact,
    RecordDocument,
    RecordObjectives,
    RecordRisks,
    RiskFact,
)
from workflows.refusals import invalid as _invalid


def check_record_document(lc: Moves, act: RecordDocument) -> None:
    """Refuse a type the definition does not archive. Versions count per type and title in the database, so
    the fact kept is the newest arrival of the type, whatever its number."""
    if act.doc_type not in lc.definition.archive_includes:
        raise _invalid("unknown document type %(document)r (this kind keeps: %(types)s)", document=act.doc_type,
                       types=", ".join(lc.definition.archive_includes) or "none")


def apply_record_document(lc: Moves, act: RecordDocument) -> str:
    """Keep the newest version of the type. A new version takes back the approval of any gate that checks that
    type and was approved in a stage not yet left: the chair approves the minutes as they stand, not as they
    may later read."""
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


def check_acknowledge_papers(lc: Moves, act: AcknowledgePapers) -> None:
    roles = {c.role for c in papers_checks(lc.definition)}
    if not roles:
        raise _invalid("a %(kind)s sends no papers to acknowledge", kind=lc.definition.kind)
    if not any(act.person_id in {p.id for p in lc.event.team.get(r, [])} for r in roles):
        raise _invalid("%(person)s is not named as %(roles)s for this event", person=act.person_id,
                       roles=" or ".join(sorted(roles)))


def apply_acknowledge_papers(lc: Moves, act: AcknowledgePapers) -> str:
    first = lc.record.receipts.setdefault(act.person_id, lc.now)
    if first != lc.now:
        return f"papers acknowledged again by {act.person_id} (first at {first.isoformat()})"
    return f"papers acknowledged by {act.person_id}"


def check_record_risks(lc: Moves, act: RecordRisks) -> None:
    """Any summary is taken (an older one is ignored in :func:`apply_record_risks`)."""


def apply_record_risks(lc: Moves, act: RecordRisks) -> str:
    known = lc.record.risks
    if known is not None and known.revision >= act.revision:
        return f"risk register summary r{act.revision} ignored (r{known.revision} is newer)"
    lc.record.risks = RiskFact(revision=act.revision, count=act.count, high_open=list(act.high_open),
                               high_unowned=list(act.high_unowned), at=lc.now)
    return (f"risk register: {act.count} risk(s), {len(act.high_open)} high open, "
            f"{len(act.high_unowned)} high without an owner")


def check_record_objectives(lc: Moves, act: RecordObjectives) -> None:
    """Any summary is taken (an older one is ignored in :func:`apply_record_objectives`)."""


def apply_record_objectives(lc: Moves, act: RecordObjectives) -> str:
    known = lc.record.objectives
    if known is not None and known.revision >= act.revision:
        return f"objectives summary r{act.revision} ignored (r{known.revision} is newer)"
    lc.record.objectives = ObjectivesFact(revision=act.revision, objectives=act.objectives, outcomes=act.outcomes,
                                          at=lc.now)
    return f"objectives and outcomes: {act.objectives} objective(s), {act.outcomes} outcome(s) recorded"


HANDLERS: dict[type[Act], Handler] = {
    RecordDocument: Handler(check_record_document, apply_record_document),
    AcknowledgePapers: Handler(check_acknowledge_papers, apply_acknowledge_papers),
    RecordRisks: Handler(check_record_risks, apply_record_risks),
    RecordObjectives: Handler(check_record_objectives, apply_record_objectives),
}
