"""event read indexes: timed and all-day events by calendar in read order, and series masters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

HAS_RULE = "CAST(recurrence AS TEXT) != 'null'"
# Reads order event_uid by code point (as Python does): on PostgreSQL the index must collate it alike.
UID_OPS = {"event_uid": 'COLLATE "C"'}


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_calendar_timed",
            ["calendar_id", "all_day", "starts_at", "event_uid"],
            unique=False,
            postgresql_ops=UID_OPS,
        )
        batch_op.create_index(
            "ix_events_calendar_days",
            ["calendar_id", "all_day", "start_date", "event_uid"],
            unique=False,
            postgresql_ops=UID_OPS,
        )
        batch_op.create_index(
            "ix_events_calendar_series",
            ["calendar_id"],
            unique=False,
            sqlite_where=sa.text(HAS_RULE),
            postgresql_where=sa.text(HAS_RULE),
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_calendar_series")
        batch_op.drop_index("ix_events_calendar_days")
        batch_op.drop_index("ix_events_calendar_timed")
