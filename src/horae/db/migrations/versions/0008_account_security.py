"""account security: sign-in lock-out, TOTP multi-factor, recovery codes and password reset tokens

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "mfa_enrolments",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_mfa_enrolments_person_id_people")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_mfa_enrolments")),
    )
    op.create_table(
        "password_resets",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_password_resets_person_id_people")),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_password_resets")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_person_id"), ["person_id"], unique=False)
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_recovery_codes_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_recovery_codes_code_digest")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_person_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_resets_person_id"))
    op.drop_table("password_resets")
    op.drop_table("mfa_enrolments")
    op.drop_table("login_throttles")
