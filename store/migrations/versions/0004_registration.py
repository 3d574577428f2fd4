"""open registration, capacity and a waiting list: the event's rules, each person's place

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as t:
        t.add_column(sa.Column("registration", sa.String(length=16), nullable=False, server_default="invite_only"))
        t.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
        t.add_column(sa.Column("offer_hours", sa.Float(), nullable=False, server_default="48"))
    with op.batch_alter_table("attendees") as t:
        t.add_column(sa.Column("registration", sa.String(length=16), nullable=True))
        t.add_column(sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("waitlisted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_attendees_registration", "attendees", ["event_id", "registration", "position"])


def downgrade() -> None:
    op.drop_index("ix_attendees_registration", table_name="attendees")
    with op.batch_alter_table("attendees") as t:
        t.drop_column("waitlisted_at")
        t.drop_column("offer_expires_at")
        t.drop_column("registration")
    with op.batch_alter_table("events") as t:
        t.drop_column("offer_hours")
        t.drop_column("capacity")
        t.drop_column("registration")
