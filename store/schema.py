"""The tables: what grows with people and time, kept out of the workflow.

One row per attendee, per survey answer, per notification and per audit entry.
Every write is idempotent by a natural key (an act's idempotency key, a
notification's key, an event's audit sequence number), so a retried request or
activity never writes twice. Alembic migrations in ``store/migrations`` create
exactly these tables; ``tests/db`` checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

ID = String(128)
"""Ids of events and people (``SafeId``: at most 128 characters)."""

events = Table(
    "events",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("title", String(300), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("on_site", Boolean, nullable=False, default=False, doc="Check-in is open (the on-site stage)."),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("confidential", Boolean, nullable=False, default=False),
    Column("registration", String(16), nullable=False, default="invite_only", server_default="invite_only",
           doc="invite_only, or open: anyone may register on the public page."),
    Column("capacity", Integer, doc="Places (people with a yes, and places offered); null: no limit."),
    Column("offer_hours", Float, nullable=False, default=48.0, server_default="48",
           doc="How long a place offered from the waiting list waits for its confirmation."),
    Column("version", Integer, nullable=False, doc="Rises with every sync; an older sync never overwrites a newer."),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""The facts the API needs to decide an attendee act without asking the workflow (stage, dates),
written by the workflow through the ``sync_event`` activity whenever they change."""

attendees = Table(
    "attendees",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("attendee_id", ID, primary_key=True),
    Column("position", Integer, nullable=False, doc="Invitation order within the event."),
    Column("name", String(200), nullable=False),
    Column("email", String(254)),
    Column("locale", String(16)),
    Column("webhook_url", String(2000)),
    Column("category", String(32), nullable=False),
    Column("key_client", Boolean, nullable=False, default=False),
    Column("needs", JSON, nullable=False),
    Column("needs_note", String(500)),
    Column("question", String(1000), doc="The attendee's question for the event's named contact (their RSVP form)."),
    Column("batch", String(200), nullable=False, doc="The invitation act (its idempotency key) that added them."),
    Column("invited_at", DateTime(timezone=True), nullable=False),
    Column("invitation", String(16), nullable=False, default="pending", doc="pending, sent, failed or skipped."),
    Column("rsvp", String(8)),
    Column("rsvp_at", DateTime(timezone=True)),
    Column("checked_in_at", DateTime(timezone=True)),
    Column("checked_in_by", String(128)),
    Column("checked_in_desk", String(64)),
    Column("registration", String(16), doc="For people who registered themselves: registered, waitlisted, "
                                           "offered (a place waits for their confirmation), lapsed or withdrawn."),
    Column("offer_expires_at", DateTime(timezone=True), doc="Until when an offered place waits."),
    Column("waitlisted_at", DateTime(timezone=True), doc="When they joined the waiting list (its order)."),
    Index("ix_attendees_batch", "event_id", "batch", "position"),
    Index("ix_attendees_rsvp", "event_id", "rsvp"),
    Index("ix_attendees_checked_in", "event_id", "checked_in_at"),
    Index("ix_attendees_registration", "event_id", "registration", "position"),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("respondent", ID, primary_key=True),
    Column("content", Integer, nullable=False),
    Column("organisation", Integer, nullable=False),
    Column("service", Integer, nullable=False),
    Column("comment", String(2000)),
    Column("at", DateTime(timezone=True), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("key", String(512), primary_key=True, doc="The notification's idempotency key."),
    Column("event_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(2000), nullable=False),
    Column("status", String(16), nullable=False, doc="sent, failed, skipped or retrying."),
    Column("detail", Text, nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=1),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_deliveries_event", "event_id", "at"),
)

audit = Table(
    "audit",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("entry", String(256), primary_key=True,
           doc="``wf:<seq>`` for what the workflow recorded, ``act:<key>`` for an attendee act."),
    Column("seq", Integer, doc="The workflow's sequence number (null for attendee acts)."),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("act", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(64), nullable=False),
    Column("key", String(200)),
    Column("reason", String(2000)),
    Column("summary", Text, nullable=False),
    Column("digest", String(64), doc="What an attendee act's key stands for (its content without the key)."),
    Column("answer", JSON, doc="An attendee act's answer, given again to a repeat of its key."),
    Index("ix_audit_event_at", "event_id", "at", "entry"),
)

personal_links = Table(
    "personal_links",
    metadata,
    Column("link_id", String(32), primary_key=True, doc="The public half of the link (derived, unguessable)."),
    Column("event_id", ID, nullable=False),
    Column("person_id", ID, nullable=False),
    Column("purpose", String(16), nullable=False, doc="attendee, speaker, ticket or papers."),
    Column("version", Integer, nullable=False, default=1, doc="Raised by a revocation: older links stop working."),
    Column("secret_hash", String(64), nullable=False, doc="sha256 of the link's secret; the secret is never kept."),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_personal_links_person", "event_id", "person_id", "purpose"),
)
"""One row per person and purpose: their page (``attendee``, ``speaker``) and their ticket (``ticket``)."""
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("key", String(200), primary_key=True, doc="The Idempotency-Key the client sent (or the body's key)."),
    Column("principal", ID, nullable=False, doc="Who sent it: the only one (with the event's readers) who may ask."),
    Column("fingerprint", String(64), nullable=False,
           doc="SHA-256 of the sender and the act without its key: the same key with another request is refused."),
    Column("status", String(16), nullable=False, doc="pending, accepted or refused."),
    Column("http_status", Integer, doc="The answer's HTTP status, once final."),
    Column("answer", JSON, doc="The answer's body, once final: given again to every repeat of the key."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_idempotency_keys_expires", "expires_at"),
)
"""Each team act the API sent to a workflow, by its key: what it was and, once known, its final answer (refusals
included). Kept for the idempotency window (``CONVENE_IDEMPOTENCY_WINDOW_HOURS``), then deleted."""

event_organisations = Table(
    "event_organisations",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
"""Who owns each event (``EventDetails.organisation``), written when it is started, so the notifier finds the
organisation's webhook subscriptions without asking the workflow."""

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("subscription_id", String(32), primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("kinds", JSON, nullable=False, doc="Notification kinds delivered; empty: every kind."),
    Column("secret", String(200), nullable=False, doc="whsec_<base64>: signs every delivery."),
    Column("previous_secret", String(200), doc="The secret before the last rotation, still signing until ..."),
    Column("previous_until", DateTime(timezone=True), doc="... this time (two valid at once during a rotation)."),
    Column("created_by", ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_subscriptions_organisation", "organisation", "created_at"),
)
"""An organisation's webhook subscriptions: every notification of its events (of the kinds listed) is POSTed
to the URL, signed with the subscription's own Standard Webhooks secret."""

notification_claims = Table(
    "notification_claims",
    metadata,
    Column("key", String(512), primary_key=True, doc="A notification's key (without its recipient)."),
    Column("holder", String(512), nullable=False, doc="The one delivery (its key) that fans it out."),
    Column("at", DateTime(timezone=True), nullable=False),
)
"""Which of a notification's deliveries (one per role, person and channel) delivers it to the subscriptions:
the first to claim it; its retries go on, the others skip."""
documents = Table(
    "documents",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("doc_id", String(32), primary_key=True, doc="Derived from the event and the upload's key."),
    Column("key", String(200), nullable=False, doc="The upload's idempotency key: the same key is the same document."),
    Column("doc_type", String(64), nullable=False, doc="One of the definition's archive_includes (minutes, ...)."),
    Column("title", String(200), nullable=False),
    Column("version", Integer, nullable=False, doc="1 for the first of its type and title, then n + 1."),
    Column("filename", String(255), nullable=False, doc="The name the uploader's file had."),
    Column("ext", String(8), nullable=False),
    Column("size", BigInteger, nullable=False, doc="Bytes."),
    Column("sha256", String(64), nullable=False),
    Column("path", String(1000), nullable=False, doc="Where the file is in the archive store."),
    Column("confidential", Boolean, nullable=False),
    Column("uploaded_by", ID, nullable=False),
    Column("role", String(64), nullable=False, doc="The uploader's role (guest: a speaker through their link)."),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Index("ux_documents_key", "event_id", "key", unique=True),
    Index("ux_documents_version", "event_id", "doc_type", "title", "version", unique=True),
)
"""Meeting documents (minutes, resolutions, papers, slides, recordings): one row per version; the file is in the
archive store. The workflow learns only the newest version of each type (``record_document``)."""

document_receipts = Table(
    "document_receipts",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("person_id", ID, primary_key=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=False, doc="The first acknowledgement."),
    Column("documents", JSON, nullable=False, doc="The doc_ids the person's page showed when they acknowledged."),
    Column("recorded_by", ID, nullable=False, doc="The person themselves (their link), or staff recording it."),
)
"""Who acknowledged the papers and when (the first time counts)."""

risks = Table(
    "risks",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("risk_id", ID, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("likelihood", Integer, nullable=False, doc="1 (rare) to 5 (almost certain)."),
    Column("impact", Integer, nullable=False, doc="1 (negligible) to 5 (severe)."),
    Column("owner", ID, doc="The person on the team who owns it; null: nobody yet."),
    Column("response", Text, nullable=False, default="", doc="What is done about it (avoid, reduce, transfer, accept)."),
    Column("status", String(16), nullable=False, doc="open, mitigating, closed or occurred."),
    Column("version", Integer, nullable=False, doc="1 when recorded, then + 1 with each change."),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""The risk register, one row per risk as it stands; every change is in ``risk_changes``."""

risk_changes = Table(
    "risk_changes",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("key", String(200), primary_key=True, doc="The write's idempotency key: the same key is one change."),
    Column("risk_id", ID, nullable=False),
    Column("version", Integer, nullable=False),
    Column("risk", JSON, nullable=False, doc="The risk as this change left it."),
    Column("by", ID, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
"""Every change to the register, in order of ``(risk_id, version)``; the register's revision is their count."""

objectives = Table(
    "objectives",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("objective_id", ID, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("metric", String(32), nullable=False, doc="What is measured (store.outcomes.METRICS)."),
    Column("baseline", Float, nullable=False, doc="Where the metric stood before (the last edition, or 0)."),
    Column("target", Float, nullable=False),
    Column("version", Integer, nullable=False, doc="1 when recorded, then + 1 with each change."),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""The event's objectives as they stand, recorded in preparation."""

outcomes = Table(
    "outcomes",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("outcome_id", ID, primary_key=True),
    Column("kind", String(16), nullable=False, doc="agreement, lead, media, web or social."),
    Column("title", String(300), nullable=False),
    Column("value", Float, nullable=False, doc="How many (leads, visits, followers...); 1 for one agreement."),
    Column("reach", BigInteger, doc="A media item's audience; null when not known or not media."),
    Column("version", Integer, nullable=False),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""What the event achieved, recorded after it."""

outcome_changes = Table(
    "outcome_changes",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("key", String(200), primary_key=True, doc="The write's idempotency key: the same key is one change."),
    Column("what", String(16), nullable=False, doc="objective or outcome."),
    Column("item_id", ID, nullable=False),
    Column("content", JSON, nullable=False, doc="What this change set."),
    Column("by", ID, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
"""Every change to an event's objectives and outcomes; their revision is the count."""

lessons = Table(
    "lessons",
    metadata,
    Column("kind", String(64), primary_key=True),
    Column("event_id", ID, primary_key=True),
    Column("event_title", String(300), nullable=False),
    Column("text", Text, nullable=False),
    Column("recorded_by", ID, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_lessons_kind_at", "kind", "recorded_at"),
)
"""The lessons each event left for the next of its kind (the newest text per event)."""
