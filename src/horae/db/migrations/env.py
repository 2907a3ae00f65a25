"""Alembic environment: runs migrations against the URL that `horae migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from horae.db.engine import make_engine
from horae.db.tables import metadata

config = context.config
url = str(config.attributes.get("url") or config.get_main_option("sqlalchemy.url"))
engine = make_engine(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes may start at once on a new database: one migrates, the others
            # wait here and then find nothing left to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(4857293)"))
        context.run_migrations()
engine.dispose()
