"""records that grow with people: roster, survey, deliveries, audit, event facts

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 22:28:25.409334
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attendees',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('attendee_id', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('key_client', sa.Boolean(), nullable=False),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('needs_note', sa.String(length=500), nullable=True),
    sa.Column('batch', sa.String(length=200), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('invitation', sa.String(length=16), nullable=False),
    sa.Column('rsvp', sa.String(length=8), nullable=True),
    sa.Column('rsvp_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_by', sa.String(length=128), nullable=True),
    sa.Column('checked_in_desk', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('event_id', 'attendee_id')
    )
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.create_index('ix_attendees_batch', ['event_id', 'batch', 'position'], unique=False)
        batch_op.create_index('ix_attendees_checked_in', ['event_id', 'checked_in_at'], unique=False)
        batch_op.create_index('ix_attendees_rsvp', ['event_id', 'rsvp'], unique=False)

    op.create_table('audit',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('entry', sa.String(length=256), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('act', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=2000), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('event_id', 'entry')
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_at', ['event_id', 'at', 'entry'], unique=False)

    op.create_table('deliveries',
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_event', ['event_id', 'at'], unique=False)

    op.create_table('events',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('stage', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('on_site', sa.Boolean(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_table('survey_responses',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('respondent', sa.String(length=128), nullable=False),
    sa.Column('content', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.Integer(), nullable=False),
    sa.Column('service', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=2000), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'respondent')
    )


def downgrade() -> None:
    op.drop_table('survey_responses')
    op.drop_table('events')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_event')

    op.drop_table('deliveries')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_at')

    op.drop_table('audit')
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.drop_index('ix_attendees_rsvp')
        batch_op.drop_index('ix_attendees_checked_in')
        batch_op.drop_index('ix_attendees_batch')

    op.drop_table('attendees')
