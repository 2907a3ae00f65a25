"""Query parameters several reads share: flags, the reader's zone and the `from` date."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from horae.api.schemas.event_reads import ZONE_NAMES

Flag = Annotated[bool, Query(description="true/false (also True/False, 1/0)")]
TZID = Annotated[
    str | None,
    Query(
        description="IANA zone for the midnights of from/to (and of localized times); default Etc/UTC",
        json_schema_extra={"enum": ZONE_NAMES},
    ),
]
FROM = Annotated[
    str | None,
    Query(
        alias="from",
        description="Date, inclusive: local midnight in tzid (a UTC time is also accepted); default 42 days back",
        json_schema_extra={"format": "date"},
    ),
]
