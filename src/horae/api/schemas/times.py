"""Reading the `start` and `end` of a request body, each a time or a `{time, tzid}` object, into 422s."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from horae.domain.times import BadTime, zone
from horae.errors import FieldError

T = TypeVar("T")


def read_ends(
    start: object, end: object, tzid: str | None, parse: Callable[[object, str], T]
) -> tuple[dict[str, T], dict[str, list[FieldError]]]:
    """Both ends parsed with `parse(value, default_tzid)`, and the problems of each field (and of `tzid`)."""
    default_tzid = tzid or "Etc/UTC"
    problems: dict[str, list[FieldError]] = {}
    try:
        zone(default_tzid)
    except BadTime as exc:
        problems["tzid"] = [FieldError("errors.invalid_tzid", str(exc))]
    found: dict[str, T] = {}
    for name, raw in (("start", start), ("end", end)):
        value = raw.model_dump(exclude_none=True) if isinstance(raw, BaseModel) else raw
        try:
            found[name] = parse(value, default_tzid)
        except BadTime as exc:
            problems.setdefault(name, []).append(FieldError("errors.invalid_time", f"{name}: {exc}"))
    return found, problems
