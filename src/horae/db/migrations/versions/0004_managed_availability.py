"""managed availability: availability rules and available periods, per account

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "availability_rules",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("tzid", sa.String(length=64), nullable=False),
        sa.Column("calendar_ids", sa.JSON(), nullable=True),
        sa.Column("weekly_periods", sa.JSON(), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_availability_rules_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "rule_id", name=op.f("pk_availability_rules")),
    )
    op.create_table(
        "available_periods",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("period_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_available_periods_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "period_id", name=op.f("pk_available_periods")),
    )
    with op.batch_alter_table("available_periods", schema=None) as batch_op:
        batch_op.create_index("ix_available_periods_account_starts", ["account_id", "starts_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("available_periods", schema=None) as batch_op:
        batch_op.drop_index("ix_available_periods_account_starts")
    op.drop_table("available_periods")
    op.drop_table("availability_rules")
