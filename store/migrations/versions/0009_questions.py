"""attendees' questions: the question an attendee sends with their RSVP, for the event's named contact

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attendees") as batch:
        batch.add_column(sa.Column("question", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attendees") as batch:
        batch.drop_column("question")
