"""conferencing profiles: a person's Zoom or Microsoft Teams account, one of them the default

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conferencing_profiles",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("account_id", sa.String(length=64), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("provider_key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("connection", sa.JSON(), nullable=True),
        sa.Column("sealed_credentials", sa.Text(), nullable=True),
    )
    op.create_index("ix_conferencing_profiles_account_id", "conferencing_profiles", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_conferencing_profiles_account_id", table_name="conferencing_profiles")
    op.drop_table("conferencing_profiles")
