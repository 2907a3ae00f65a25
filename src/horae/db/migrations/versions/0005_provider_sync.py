"""provider sync: sealed credentials and sync state on profiles, remote ids and cursors on calendars/events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("connection", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("sealed_credentials", sa.Text(), nullable=True))
        batch.add_column(sa.Column("auth_failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_synced_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_sync_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("sync_job_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("calendars") as batch:
        batch.add_column(sa.Column("remote_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sync_cursor", sa.Text(), nullable=True))
        batch.add_column(sa.Column("full_sync_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("remote_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("remote_etag", sa.Text(), nullable=True))
        batch.add_column(sa.Column("remote_state", sa.String(length=16), nullable=True))
    op.create_index("ix_events_calendar_remote", "events", ["calendar_id", "remote_id"])


def downgrade() -> None:
    op.drop_index("ix_events_calendar_remote", table_name="events")
    with op.batch_alter_table("events") as batch:
        for name in ("remote_state", "remote_etag", "remote_id"):
            batch.drop_column(name)
    with op.batch_alter_table("calendars") as batch:
        for name in ("full_sync_at", "sync_cursor", "remote_id"):
            batch.drop_column(name)
    with op.batch_alter_table("profiles") as batch:
        for name in (
            "sync_job_id",
            "last_error",
            "next_sync_at",
            "last_synced_at",
            "failures",
            "auth_failures",
            "sealed_credentials",
            "connection",
        ):
            batch.drop_column(name)
