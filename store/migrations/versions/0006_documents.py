"""meeting documents (one row per version, the file in the archive store) and the papers' receipts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("doc_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("ext", sa.String(length=8), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "doc_id"),
    )
    op.create_index("ux_documents_key", "documents", ["event_id", "key"], unique=True)
    op.create_index("ux_documents_version", "documents", ["event_id", "doc_type", "title", "version"], unique=True)
    op.create_table(
        "document_receipts",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.String(length=128), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "person_id"),
    )


def downgrade() -> None:
    op.drop_table("document_receipts")
    op.drop_index("ux_documents_version", table_name="documents")
    op.drop_index("ux_documents_key", table_name="documents")
    op.drop_table("documents")
