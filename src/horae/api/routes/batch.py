"""`POST /v1/batch`: up to 50 event writes in one request, answered `207` with one result per entry.

Each entry is dispatched in-process to the same schema and service calls as its single route, so it
succeeds or fails exactly as that call would: `202` on success, otherwise the single call's status with
its error body as `data`. Entries run in order, each in its own transaction; one failing does not undo
or stop the others. Problems with the envelope itself (no list, 0 or more than 50 entries, an entry with
a method or relative_url that is not allowed in a batch) reject the whole batch with `422` before any
entry runs.

To allow another call inside a batch, register it with `@batch_call(METHOD, "/v1/path/{param}")` before
the route below (the documented request schema is built from the registered calls).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from horae.api import body, openapi
from horae.api.auth import AccountAccess, container
from horae.api.errors import error_response
from horae.api.schemas.batch import CONTROL, BatchResponse, Entry, read_entries, request_schema
from horae.api.schemas.events import DeleteEventRequest, UpsertEventRequest, to_input
from horae.api.schemas.managed_availability import (
    AvailabilityRuleRequest,
    AvailablePeriodRequest,
    DeletePeriodsRequest,
    period_input,
    rule_input,
)
from horae.container import Container
from horae.errors import FieldError, HoraeError, InvalidRequest, NotFound
from horae.services.oauth import AccessContext

log = logging.getLogger(__name__)
router = APIRouter(tags=["Batch"])

SUCCESS = 202


@dataclass(frozen=True)
class EntryRequest:
    """One entry as its single route would see it: path parameters (decoded), query and body."""

    params: dict[str, str]
    query: dict[str, Any]
    data: dict[str, Any]


# Runs one entry; raises HoraeError exactly where the single route would.
Handler = Callable[[Container, AccessContext, EntryRequest], None]


@dataclass(frozen=True)
class BatchCall:
    """A single call that may appear inside a batch: its method, its path template and what runs it."""

    method: str
    template: str
    handler: Handler
    regex: re.Pattern[str]


CALLS: list[BatchCall] = []

_PARAM = re.compile(r"\{(\w+)\}")
# A path parameter is one non-empty segment; a query string may follow the path; no fragment.
_SEGMENT = f"[^/?#{CONTROL}]+"
_QUERY = f"[^#{CONTROL}]*"


def url_pattern(template: str, named: bool = False) -> str:
    """The relative_urls that name `template`, as a regular expression (with named groups for matching,
    or plain ones for the documented schema)."""
    pieces = _PARAM.split(template)
    path = "".join(
        re.escape(piece) if i % 2 == 0 else (f"(?P<{piece}>{_SEGMENT})" if named else f"({_SEGMENT})")
        for i, piece in enumerate(pieces)
    )
    query = f"(?:\\?(?P<query>{_QUERY}))?" if named else f"(\\?{_QUERY})?"
    return f"^{path}{query}$"


def batch_call(method: str, template: str) -> Callable[[Handler], Handler]:
    """Register `handler` as what runs `METHOD template` inside a batch."""

    def register(handler: Handler) -> Handler:
        CALLS.append(BatchCall(method, template, handler, re.compile(url_pattern(template, named=True))))
        return handler

    return register


@batch_call("POST", "/v1/calendars/{calendar_id}/events")
def _upsert_event(services: Container, ctx: AccessContext, entry: EntryRequest) -> None:
    # As POST /v1/calendars/{calendar_id}/events: the body only (the single route ignores the query).
    data = to_input(body.validate(UpsertEventRequest, entry.data))
    services.events.upsert(ctx, entry.params["calendar_id"], data)


@batch_call("DELETE", "/v1/calendars/{calendar_id}/events")
def _delete_event(services: Container, ctx: AccessContext, entry: EntryRequest) -> None:
    # As DELETE /v1/calendars/{calendar_id}/events: query parameters and body together, the body winning.
    req = body.validate(DeleteEventRequest, {**entry.query, **entry.data})
    services.events.delete(ctx, entry.params["calendar_id"], req.event_id, req.event_uid)


@batch_call("POST", "/v1/availability_rules")
def _upsert_rule(services: Container, ctx: AccessContext, entry: EntryRequest) -> None:
    services.managed_availability.upsert_rule(ctx, rule_input(body.validate(AvailabilityRuleRequest, entry.data)))


@batch_call("DELETE", "/v1/availability_rules/{rule_id}")
def _delete_rule(services: Container, ctx: AccessContext, entry: EntryRequest) -> None:
    services.managed_availability.delete_rule(ctx, entry.params["rule_id"])


@batch_call("POST", "/v1/available_periods")
def _upsert_period(services: Container, ctx: AccessContext, entry: EntryRequest) -> None:
    services.managed_availability.upsert_period(ctx, period_input(body.validate(AvailablePeriodRequest, entry.data)))


@batch_call("DELETE", "/v1/available_periods")
def _delete_periods(services: Container, ctx: AccessContext, entry: EntryRequest) -> None:
    req = body.validate(DeletePeriodsRequest, {**entry.query, **entry.data})
    services.managed_availability.delete_periods(ctx, req.available_period_id or None, req.delete_all)


def _documented_calls() -> list[tuple[list[str], str, str]]:
    methods: dict[str, list[str]] = {}
    for call in CALLS:
        methods.setdefault(call.template, []).append(call.method)
    return [(sorted(found), url_pattern(template), template) for template, found in methods.items()]


@router.post(
    "/v1/batch",
    status_code=207,
    response_model=BatchResponse,
    response_model_exclude_none=True,
    responses={
        207: {"description": "One result per entry, in order: 202, or the entry's error status and body"},
        **openapi.errors(401, 422, 429),
    },
    openapi_extra={**request_schema(_documented_calls()), **openapi.account_token()},
    summary="Run up to 50 event writes in one request (each entry needs the scope of its single call)",
)
async def batch(request: Request, ctx: AccountAccess) -> JSONResponse:
    entries, problems = read_entries(await body.read_body(request))
    runs = []
    for entry in entries:
        found = _match(entry)
        if isinstance(found, dict):
            problems.update(found)
        else:
            runs.append(found)
    if problems:
        raise InvalidRequest(dict(sorted(problems.items(), key=lambda item: int(item[0].split(".")[1]))))
    results = await run_in_threadpool(_run_all, container(request), ctx, runs)
    return JSONResponse({"batch": results}, status_code=207)


Run = tuple[Entry, BatchCall, EntryRequest]


def _match(entry: Entry) -> Run | dict[str, list[FieldError]]:
    """The registered call for this entry with what it carries, or why there is none."""
    allowed = []
    for call in CALLS:
        found = call.regex.fullmatch(entry.relative_url)
        if found is None:
            continue
        if call.method != entry.method:
            allowed.append(call.method)
            continue
        values = found.groupdict()
        query: dict[str, Any] = {}
        for key, value in parse_qsl(values.pop("query") or "", keep_blank_values=True):
            if key.endswith("[]"):
                query.setdefault(key[:-2], []).append(value)
            else:
                query[key] = value
        params = {name: unquote(value) for name, value in values.items()}
        return entry, call, EntryRequest(params, query, entry.data)
    if allowed:
        why = f"{entry.name}.method must be {' or '.join(allowed)} for this relative_url"
        return {f"{entry.name}.method": [FieldError("errors.method_not_allowed", why)]}
    supported = ", ".join(sorted({f"{c.method} {c.template}" for c in CALLS}))
    why = f"{entry.name}.relative_url is not a call allowed in a batch (allowed: {supported})"
    return {f"{entry.name}.relative_url": [FieldError("errors.unsupported", why)]}


def _run_all(services: Container, ctx: AccessContext, runs: list[Run]) -> list[dict[str, Any]]:
    return [_run(services, ctx, entry, call, request) for entry, call, request in runs]


_IMPOSSIBLE = re.compile(f"[{CONTROL}\\ud800-\\udfff]")


def _run(
    services: Container, ctx: AccessContext, entry: Entry, call: BatchCall, request: EntryRequest
) -> dict[str, Any]:
    try:
        if any(_IMPOSSIBLE.search(value) for value in request.params.values()):
            # A percent-encoded control character (or a lone surrogate) names nothing that can exist.
            raise NotFound(f"nothing at {entry.relative_url!r}")
        call.handler(services, ctx, request)
    except HoraeError as exc:
        answer = error_response(exc)
        return {"status": answer.status_code, "data": json.loads(bytes(answer.body))}
    except Exception:
        # One broken entry must not hide what happened to the others (the earlier ones are committed).
        log.exception("batch entry failed", extra={"batch_entry": entry.index, "method": entry.method})
        return {"status": 500, "data": {"error": "internal_error", "error_description": "internal error"}}
    return {"status": SUCCESS}
