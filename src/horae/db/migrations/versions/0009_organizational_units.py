"""organizational units: units, their members and invitations; applications belong to a unit

Applications that already exist are placed in one unit, "Applications created before organizational units",
which has no members: the operator gives it an Owner with `horae unit set-role`.

`applications.unit_id` stays nullable: SQLite can add a column that refers to another table only when
it may be NULL, and it cannot rebuild `applications` while other tables' rows refer to it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import horae.db.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Copied, not imported, so this migration keeps meaning what it meant when the domain changes.
PRE_UNITS_ID = "uni_000000000000000000000000"
PRE_UNITS_NAME = "Applications created before organizational units"


def upgrade() -> None:
    op.create_table(
        "organizational_units",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizational_units")),
    )
    op.create_table(
        "unit_memberships",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["organizational_units.id"], name=op.f("fk_unit_memberships_unit_id_organizational_units")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_unit_memberships_person_id_people")),
        sa.PrimaryKeyConstraint("unit_id", "person_id", name=op.f("pk_unit_memberships")),
    )
    op.create_index(op.f("ix_unit_memberships_person_id"), "unit_memberships", ["person_id"])
    op.create_table(
        "unit_invitations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", horae.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("invited_by", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", horae.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["organizational_units.id"], name=op.f("fk_unit_invitations_unit_id_organizational_units")
        ),
        sa.ForeignKeyConstraint(["invited_by"], ["people.id"], name=op.f("fk_unit_invitations_invited_by_people")),
        sa.ForeignKeyConstraint(["accepted_by"], ["people.id"], name=op.f("fk_unit_invitations_accepted_by_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_invitations")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_unit_invitations_token_digest")),
    )
    op.create_index(op.f("ix_unit_invitations_unit_id"), "unit_invitations", ["unit_id"])

    _add_reference("applications", "unit_id", "organizational_units")
    _add_reference("applications", "created_by", "people")
    op.create_index(op.f("ix_applications_unit_id"), "applications", ["unit_id"])
    op.create_index("ix_deliveries_application_created", "deliveries", ["application_id", "created_at"])

    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM applications LIMIT 1")).first() is not None:
        units = sa.table(
            "organizational_units",
            sa.column("id", sa.String()),
            sa.column("name", sa.String()),
            sa.column("created_at", horae.db.tables.UTCDateTime()),
        )
        op.execute(units.insert().values(id=PRE_UNITS_ID, name=PRE_UNITS_NAME, created_at=datetime.now(UTC)))
        op.execute(
            sa.text("UPDATE applications SET unit_id = :unit WHERE unit_id IS NULL").bindparams(unit=PRE_UNITS_ID)
        )


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable column referring to `target.id`. SQLite cannot add a constraint to a table, but takes
    the reference inline in ADD COLUMN (when the column may be NULL)."""
    name = f"fk_{table}_{column}_{target}"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(64) CONSTRAINT {name} REFERENCES {target} (id)")
        return
    op.add_column(table, sa.Column(column, sa.String(length=64), nullable=True))
    op.create_foreign_key(op.f(name), table, target, [column], ["id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_application_created", table_name="deliveries")
    op.drop_index(op.f("ix_applications_unit_id"), table_name="applications")
    for column, target in (("created_by", "people"), ("unit_id", "organizational_units")):
        if op.get_bind().dialect.name == "sqlite":
            # SQLite (3.35+) drops the column with its inline reference, without rebuilding the table.
            op.execute(f"ALTER TABLE applications DROP COLUMN {column}")
        else:
            op.drop_constraint(op.f(f"fk_applications_{column}_{target}"), "applications", type_="foreignkey")
            op.drop_column("applications", column)
    op.drop_index(op.f("ix_unit_invitations_unit_id"), table_name="unit_invitations")
    op.drop_table("unit_invitations")
    op.drop_index(op.f("ix_unit_memberships_person_id"), table_name="unit_memberships")
    op.drop_table("unit_memberships")
    op.drop_table("organizational_units")
