"""scheduling links: Real-Time Scheduling and Sequencing links and what their invitees booked

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduling_links",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=64), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("sealed_token", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("display_message", sa.Text(), nullable=True),
        sa.Column("completed_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("booking", sa.JSON(), nullable=True),
        sa.Column("no_times_suitable_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("no_times_displayed_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("host_ids", sa.JSON(), nullable=False),
        sa.UniqueConstraint("token_digest", name="uq_scheduling_links_token_digest"),
    )
    op.create_index("ix_scheduling_links_application_id", "scheduling_links", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_scheduling_links_application_id", table_name="scheduling_links")
    op.drop_table("scheduling_links")
