"""enterprise connect: service accounts and their delegated-access requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_accounts",
        sa.Column("id", sa.String(length=64), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("application_id", sa.String(length=64), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("person_id", sa.String(length=64), sa.ForeignKey("people.id"), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("delegated_scope", sa.Text(), nullable=False),
        sa.Column("provider_key", sa.String(length=255), nullable=False),
        sa.Column("connection", sa.JSON(), nullable=False),
        sa.Column("sealed_credentials", sa.Text(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_service_accounts_application_id", "service_accounts", ["application_id"])
    op.create_table(
        "delegation_requests",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("service_account_id", sa.String(length=64), sa.ForeignKey("service_accounts.id"), nullable=False),
        sa.Column("application_id", sa.String(length=64), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("sync_failures", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("finished_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_delegation_requests_account_email", "delegation_requests", ["service_account_id", "email", "outcome"]
    )


def downgrade() -> None:
    op.drop_index("ix_delegation_requests_account_email", table_name="delegation_requests")
    op.drop_table("delegation_requests")
    op.drop_index("ix_service_accounts_application_id", table_name="service_accounts")
    op.drop_table("service_accounts")
