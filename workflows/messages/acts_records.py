"""Acts that tell the workflow a small fact about what the database keeps: a meeting document's newest version,
a member's receipt of the papers, the risk register's summary, how many objectives are recorded. The API
sends each after writing the database (api/routes/documents.py, papers.py, risks.py, outcomes.py), so the
record stays bounded by the definition; :mod:`workflows.lifecycle.handlers_records` handles them."""

from __future__ import annotations

from pydantic import Field

from workflows.messages.acts import Act
from workflows.messages.base import SafeId


# Meeting documents: the file and its record are in the database and the archive store; the workflow learns
# only which version of each type is there (bounded by archive_includes).
class RecordDocument(Act):
    """A document of `doc_type` (one of the definition's ``archive_includes``) was stored as `version`."""

    update = "record_document"
    permission = ("manage_documents",)

    doc_type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    version: int = Field(ge=1, le=100_000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AcknowledgePapers(Act):
    """`person_id` (named by the team in the papers' role) acknowledged the papers: staff record it, or the
    member on their own page (as ``guest``)."""

    update = "acknowledge_papers"
    permission = ("manage_documents",)
    self_service = "person_id"

    person_id: SafeId


# The risk register: risks live in the database; the workflow learns the summary its check needs, bounded by
# a cap on the ids it names.
RISK_IDS_KEPT = 50
"""At most this many ids of open high risks (and of those without an owner) travel in the fact."""


class RecordRisks(Act):
    """The register's summary after a write: `count` risks, the open high ones and those without an owner.
    `revision` rises with every write to the register, so an older summary arriving late changes nothing."""

    update = "record_risks"
    permission = ("manage_risks",)

    revision: int = Field(ge=1)
    count: int = Field(ge=0, le=100_000)
    high_open: list[SafeId] = Field(default_factory=list, max_length=RISK_IDS_KEPT)
    high_unowned: list[SafeId] = Field(default_factory=list, max_length=RISK_IDS_KEPT)


# Objectives and outcomes: they live in the database; the workflow learns how many objectives are recorded.
class RecordObjectives(Act):
    """The objectives' summary after a write: `objectives` recorded (each with metric, baseline and target) and
    `outcomes` recorded. `revision` rises with every write, so an older summary arriving late changes nothing."""

    update = "record_objectives"
    permission = ("manage_objectives",)

    revision: int = Field(ge=1)
    objectives: int = Field(ge=0, le=100_000)
    outcomes: int = Field(ge=0, le=1_000_000)
