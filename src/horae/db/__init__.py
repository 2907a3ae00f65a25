"""Storage adapters: SQLAlchemy tables, the classical mapping of domain entities, repositories, unit of work."""
