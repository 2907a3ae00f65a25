"""Managed availability: an account's availability rules and available periods, written and read by any
application the account authorized (docs/compat.md, "Managed availability")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from horae.domain import paging
from horae.domain.managed import (
    DAYS,
    MAX_ID,
    AvailabilityRule,
    AvailablePeriod,
    WeeklyPeriod,
    clock_minutes,
    valid_id,
)
from horae.domain.times import BadTime, parse_date, parse_instant, zone
from horae.errors import FieldError, InvalidRequest, NotFound
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.oauth import AccessContext

MAX_RULES = 100  # per account
MAX_WEEKLY_PERIODS = 200  # per rule
MAX_PERIOD_SPAN = timedelta(days=366)
PAGE_SIZE = 500
DEFAULT_DAYS_BACK = 42
ID_RULE = f"1 to {MAX_ID} printable ASCII characters"


@dataclass(frozen=True)
class RuleInput:
    """An availability rule as given (the API layer checked only the types)."""

    rule_id: str
    tzid: str
    weekly_periods: tuple[WeeklyPeriod, ...]
    calendar_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PeriodInput:
    """An available period as given, its ends already read as UTC instants."""

    period_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PeriodQuery:
    """`GET /v1/available_periods` parameters as given: from/to dates (or UTC times), the zone of their
    midnights, and whether to answer with `{time, tzid}` objects."""

    tzid: str | None = None
    start: str | None = None
    end: str | None = None
    localized_times: bool = False


@dataclass(frozen=True)
class PeriodWindow:
    """A checked read: instants `[start, end)` (end open when None), and how to show times."""

    tzid: str
    start: datetime
    end: datetime | None
    localized_times: bool

    def to_state(self) -> dict[str, object]:
        return {
            "tz": self.tzid,
            "s": self.start.isoformat(),
            "e": self.end.isoformat() if self.end is not None else None,
            "l": self.localized_times,
        }

    @classmethod
    def from_state(cls, state: object) -> PeriodWindow | None:
        if not isinstance(state, dict):
            return None
        tzid, start, end, localized = state.get("tz"), state.get("s"), state.get("e"), state.get("l")
        if not isinstance(tzid, str) or not isinstance(start, str) or not isinstance(localized, bool):
            return None
        if end is not None and not isinstance(end, str):
            return None
        try:
            return cls(tzid, datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None, localized)
        except ValueError:
            return None


@dataclass(frozen=True)
class PeriodPage:
    """One page of a read: its periods, its number, how many pages in all, and the next page's token."""

    window: PeriodWindow
    items: list[AvailablePeriod]
    current: int
    total: int
    next_token: str | None


class ManagedAvailabilityService:
    """Availability rules and available periods of the caller's account. They belong to the account, so
    every application the account authorized sees and changes the same ones; no scope is needed beyond
    a valid access token."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, page_key: bytes, page_size: int = PAGE_SIZE) -> None:
        self._uow = uow
        self._clock = clock
        self._page_key = page_key
        self.page_size = page_size

    # --- availability rules ----------------------------------------------------------------------

    def upsert_rule(self, ctx: AccessContext, data: RuleInput) -> AvailabilityRule:
        """Create the rule, or replace every field of the one with the same id."""
        check_rule(data)
        with self._uow() as uow:
            uow.availability_rules.lock_account(ctx.account_id)
            calendar_ids = _own_calendars(uow, ctx.account_id, data.calendar_ids)
            now = self._clock.now()
            rule = uow.availability_rules.get_for(ctx.account_id, data.rule_id)
            if rule is None:
                if uow.availability_rules.count(ctx.account_id) >= MAX_RULES:
                    raise InvalidRequest.single(
                        "availability_rule_id",
                        "errors.too_many",
                        f"an account may have at most {MAX_RULES} availability rules",
                    )
                rule = AvailabilityRule(
                    account_id=ctx.account_id,
                    rule_id=data.rule_id,
                    tzid=data.tzid,
                    weekly_periods=data.weekly_periods,
                    calendar_ids=calendar_ids,
                    created_at=now,
                    updated_at=now,
                )
                uow.availability_rules.add(rule)
            else:
                rule.tzid = data.tzid
                rule.weekly_periods = data.weekly_periods
                rule.calendar_ids = calendar_ids
                rule.updated_at = now
            uow.commit()
            return rule

    def rules(self, ctx: AccessContext) -> list[AvailabilityRule]:
        with self._uow() as uow:
            return uow.availability_rules.for_account(ctx.account_id)

    def rule(self, ctx: AccessContext, rule_id: str) -> AvailabilityRule:
        with self._uow() as uow:
            found = uow.availability_rules.get_for(ctx.account_id, rule_id)
        if found is None:
            raise NotFound(f"no availability rule {rule_id!r}")
        return found

    def delete_rule(self, ctx: AccessContext, rule_id: str) -> None:
        with self._uow() as uow:
            if not uow.availability_rules.delete(ctx.account_id, rule_id):
                raise NotFound(f"no availability rule {rule_id!r}")
            uow.commit()

    # --- available periods -----------------------------------------------------------------------

    def upsert_period(self, ctx: AccessContext, data: PeriodInput) -> AvailablePeriod:
        """Create the period, or move the one with the same id."""
        check_period(data)
        with self._uow() as uow:
            uow.available_periods.lock_account(ctx.account_id)
            now = self._clock.now()
            period = uow.available_periods.get_for(ctx.account_id, data.period_id)
            if period is None:
                period = AvailablePeriod(
                    account_id=ctx.account_id,
                    period_id=data.period_id,
                    starts_at=data.start,
                    ends_at=data.end,
                    created_at=now,
                    updated_at=now,
                )
                uow.available_periods.add(period)
            else:
                period.starts_at, period.ends_at, period.updated_at = data.start, data.end, now
            uow.commit()
            return period

    def delete_periods(self, ctx: AccessContext, period_id: str | None, delete_all: bool) -> None:
        """Delete one period by id (NotFound when unknown), or all of the account's. An empty id counts as
        none (a form's way of leaving it out)."""
        period_id = period_id or None
        if delete_all == (period_id is not None):
            raise InvalidRequest.single(
                "available_period_id", "errors.exactly_one", "give exactly one of available_period_id and delete_all"
            )
        with self._uow() as uow:
            if period_id is None:
                uow.available_periods.delete_all(ctx.account_id)
            elif not uow.available_periods.delete(ctx.account_id, period_id):
                raise NotFound(f"no available period {period_id!r}")
            uow.commit()

    def periods(self, ctx: AccessContext, query: PeriodQuery) -> PeriodPage:
        """The first page of the account's periods overlapping the window, by start."""
        return self._page(ctx, self.resolve(query), None, 1)

    def next_periods(self, ctx: AccessContext, token: str) -> PeriodPage:
        """The page a `next_page` token names; NotFound for tokens that are not ours, or not the caller's."""
        state = paging.unseal(token, self._page_key)
        if state is None or state.get("a") != ctx.account_id or state.get("app") != ctx.application_id:
            raise NotFound("no such page")
        window = PeriodWindow.from_state(state.get("q"))
        cursor = paging.key_of(state.get("c"))
        number = state.get("n")
        if window is None or cursor is None or not isinstance(number, int) or number < 2:
            raise NotFound("no such page")
        return self._page(ctx, window, cursor, number)

    def resolve(self, query: PeriodQuery) -> PeriodWindow:
        """Check the read's parameters: from/to are local midnights in tzid (or UTC times); from defaults
        to 42 days before the earlier of today and `to`; without `to` the window has no end."""
        problems: dict[str, list[FieldError]] = {}
        tzid = "Etc/UTC" if query.tzid is None else query.tzid
        where: tzinfo = UTC
        try:
            where = zone(tzid)
        except BadTime as exc:
            problems["tzid"] = [FieldError("errors.invalid_tzid", str(exc))]
        start = _bound(query.start, "from", where, problems)
        end = _bound(query.end, "to", where, problems)
        if problems:
            raise InvalidRequest(problems)
        if start is None:
            today = paging.local_date(self._clock.now(), where)
            if end is not None:
                today = min(today, paging.local_date(end, where))
            start = paging.day_start(paging.shift_day(today, -DEFAULT_DAYS_BACK), where)
        if end is not None and end <= start:
            raise InvalidRequest.single("to", "errors.before_from", "to must be after from")
        return PeriodWindow(tzid, start, end, query.localized_times)

    def _page(
        self, ctx: AccessContext, window: PeriodWindow, cursor: tuple[datetime, str] | None, number: int
    ) -> PeriodPage:
        with self._uow() as uow:
            found, count = uow.available_periods.page(ctx.account_id, window.start, window.end, cursor, self.page_size)
        rest = count - len(found)
        token = None
        if rest > 0 and found:
            last = found[-1]
            state = {
                "a": ctx.account_id,
                "app": ctx.application_id,
                "q": window.to_state(),
                "c": paging.cursor_of((last.starts_at, last.period_id)),
                "n": number + 1,
            }
            token = paging.seal(state, self._page_key)
        return PeriodPage(window, found, number, number + math.ceil(max(rest, 0) / self.page_size), token)


# --- checks ----------------------------------------------------------------------------------------------


def check_rule(data: RuleInput) -> None:
    """Every problem with a rule, by field (`weekly_periods.3.end_time`), as one InvalidRequest."""
    problems: dict[str, list[FieldError]] = {}
    _check_id(data.rule_id, "availability_rule_id", problems)
    try:
        zone(data.tzid)
    except BadTime as exc:
        problems["tzid"] = [FieldError("errors.invalid_tzid", str(exc))]
    if len(data.weekly_periods) > MAX_WEEKLY_PERIODS:
        problems["weekly_periods"] = [
            FieldError("errors.too_many", f"a rule may have at most {MAX_WEEKLY_PERIODS} weekly_periods")
        ]
    for index, period in enumerate(data.weekly_periods[:MAX_WEEKLY_PERIODS]):
        _check_weekly_period(f"weekly_periods.{index}", period, problems)
    if data.calendar_ids is not None and not data.calendar_ids:
        problems["calendar_ids"] = [FieldError("errors.required", "calendar_ids must not be empty when given")]
    if problems:
        raise InvalidRequest(problems)


def _check_weekly_period(name: str, period: WeeklyPeriod, problems: dict[str, list[FieldError]]) -> None:
    if period.day not in DAYS:
        problems[f"{name}.day"] = [FieldError("errors.invalid", f"{name}.day must be one of {', '.join(DAYS)}")]
    try:
        first: int | None = clock_minutes(period.start_time)
    except ValueError as exc:
        problems[f"{name}.start_time"] = [FieldError("errors.invalid_time", f"{name}.start_time: {exc}")]
        first = None
    try:
        last: int | None = clock_minutes(period.end_time, end=True)
    except ValueError as exc:
        problems[f"{name}.end_time"] = [FieldError("errors.invalid_time", f"{name}.end_time: {exc}")]
        last = None
    if first is not None and last is not None and last <= first:
        problems[f"{name}.end_time"] = [
            FieldError("errors.end_before_start", f"{name}.end_time must be after its start_time")
        ]


def check_period(data: PeriodInput) -> None:
    problems: dict[str, list[FieldError]] = {}
    _check_id(data.period_id, "available_period_id", problems)
    if data.end <= data.start:
        problems["end"] = [FieldError("errors.end_before_start", "end must be after start")]
    elif data.end - data.start > MAX_PERIOD_SPAN:
        problems["end"] = [FieldError("errors.too_long", f"a period may span at most {MAX_PERIOD_SPAN.days} days")]
    if problems:
        raise InvalidRequest(problems)


def _check_id(value: str, name: str, problems: dict[str, list[FieldError]]) -> None:
    if not value:
        problems[name] = [FieldError("errors.required", f"{name} must be specified")]
    elif not valid_id(value):
        problems[name] = [FieldError("errors.invalid", f"{name} must be {ID_RULE}")]


def _own_calendars(uow: UnitOfWork, account_id: str, given: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The calendar ids, each once, if every one is the account's; InvalidRequest naming the others."""
    if given is None:
        return None
    owned = {c.id for c in uow.calendars.for_account(account_id)}
    unknown = [c for c in given if c not in owned]
    if unknown:
        raise InvalidRequest.single("calendar_ids", "errors.not_found", f"unknown calendars: {', '.join(unknown)}")
    return tuple(dict.fromkeys(given))


def _bound(text: str | None, name: str, where: tzinfo, problems: dict[str, list[FieldError]]) -> datetime | None:
    """`from` or `to`: a date, read as its first instant in `where`, or a UTC time."""
    if text is None:
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            day: date = parse_date(text)
            return paging.day_start(day, where)
        return parse_instant(text)
    except BadTime as exc:
        problems[name] = [FieldError("errors.invalid_date", f"{name}: {exc}")]
    except OverflowError:
        problems[name] = [FieldError("errors.invalid_date", f"{name}: {text!r} is out of range")]
    return None
