"""calendar permissions: unrestricted access per application and calendar, and the requests for it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_permissions",
        sa.Column("calendar_id", sa.String(length=64), sa.ForeignKey("calendars.id"), primary_key=True),
        sa.Column("application_id", sa.String(length=64), sa.ForeignKey("applications.id"), primary_key=True),
        sa.Column("granted_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "permission_requests",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("account_id", sa.String(length=64), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("application_id", sa.String(length=64), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("calendar_ids", sa.JSON(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("decided_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("permission_requests")
    op.drop_table("calendar_permissions")
