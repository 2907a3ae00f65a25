"""Turning the members of an availability query into the engine's terms: who they are (and whether the
caller may ask about them), their busy blocks from the store, and the limits on when they are available."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from horae.domain import constraints, scopes
from horae.domain.availability import Buffer, Busy, Group, Limit, Member
from horae.domain.events import BusyRow, SeriesRow
from horae.domain.intervals import Span, normalize
from horae.domain.managed import AvailabilityRule, AvailablePeriod, rule_spans
from horae.domain.model import Account, Calendar
from horae.domain.paging import Window, day_start, window_of_instants
from horae.domain.times import BadTime, zone
from horae.errors import InvalidRequest, PermissionDenied
from horae.ports import UnitOfWork
from horae.services.availability_request import BufferSpec, Caller, ExcludedEvent, GroupSpec, MemberSpec
from horae.services.series_cache import Occurrence, SeriesCache

READ_FREE_BUSY = "read_free_busy"
PARTICIPANTS = "participants"


def seconds(instant: datetime) -> int:
    return int(instant.timestamp())


def instant(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def engine_buffer(spec: BufferSpec) -> Buffer:
    return Buffer(spec.before, spec.after)


def readable_accounts(uow: UnitOfWork, caller: Caller, subs: Sequence[str]) -> dict[str, Account]:
    """The accounts of `subs`, if the caller may read their free/busy: with an account token only its own
    account (and with read_free_busy); with the API key any account that granted the application
    read_free_busy (with an element token, only among its subs). Unknown and unauthorized subs get the
    same 422, so neither can be told from the other."""
    new = list(dict.fromkeys(subs))
    if caller.account_id is not None:
        if READ_FREE_BUSY not in caller.permissions:
            raise PermissionDenied("the read_free_busy scope is required")
        allowed = {sub for sub in new if sub == caller.account_id}
    else:
        asked = new if caller.subs is None else [sub for sub in new if sub in caller.subs]
        grants = uow.grants.active_for_accounts(asked, caller.application_id) if asked else []
        allowed = {g.account_id for g in grants if READ_FREE_BUSY in scopes.effective(g.scope.split())}
    found = {a.id: a for a in uow.accounts.many(sorted(allowed))} if allowed else {}
    missing = [sub for sub in new if sub not in found]
    if missing:
        raise InvalidRequest.single(
            PARTICIPANTS,
            "errors.unknown_sub",
            f"not accounts that granted this application read_free_busy: {', '.join(missing[:5])}",
        )
    return found


@dataclass
class MemberReader:
    """Reads members inside one unit of work: accounts, grants, calendars and busy rows in bulk, once for
    every member of the query (a few statements whatever the number of members)."""

    uow: UnitOfWork
    caller: Caller
    span: Span  # the whole query, widened by the largest buffer
    excluded: Sequence[ExcludedEvent] = ()
    cache: SeriesCache = field(default_factory=SeriesCache)
    accounts: dict[str, Account] = field(default_factory=dict)
    _calendars: dict[str, list[Calendar]] = field(default_factory=dict)
    _rows: dict[str, list[BusyRow]] = field(default_factory=dict)
    _series: dict[str, list[SeriesRow]] = field(default_factory=dict)
    _instances: dict[tuple[str, str], tuple[Occurrence, ...]] = field(default_factory=dict)
    _rules: dict[str, list[AvailabilityRule]] = field(default_factory=dict)
    _periods: dict[str, list[AvailablePeriod]] = field(default_factory=dict)
    window: Window = field(init=False)

    def __post_init__(self) -> None:
        # The span, with a day more each side: all-day events are busy in their owner's zone.
        span = window_of_instants(instant(self.span[0]), instant(self.span[1]), UTC)
        self.window = Window(
            span.start, span.end, span.first_day - timedelta(days=1), span.last_day + timedelta(days=1)
        )

    def groups(self, specs: Sequence[GroupSpec]) -> tuple[Group, ...]:
        self._load([m.sub for spec in specs for m in spec.members])
        self._load_managed([m.sub for spec in specs for m in spec.members if m.managed_availability])
        return tuple(
            Group(
                tuple(self.member(m) for m in spec.members),
                len(spec.members) if spec.required is None else spec.required,
            )
            for spec in specs
        )

    def _load(self, subs: Sequence[str]) -> None:
        """The members' accounts (readable_accounts), then their calendars and what makes those busy over
        the query's span."""
        new = [sub for sub in dict.fromkeys(subs) if sub not in self.accounts]
        if not new:
            return
        found = readable_accounts(self.uow, self.caller, new)
        self.accounts.update(found)
        owners: dict[str, Account] = {}
        for calendar in self.uow.calendars.for_accounts(list(found)):
            self._calendars.setdefault(calendar.account_id, []).append(calendar)
            if not calendar.deleted:
                owners[calendar.id] = found[calendar.account_id]
        if not owners:
            return
        rows, series = self.uow.events.busy(list(owners), self.window)
        for row in rows:
            self._rows.setdefault(row.calendar_id, []).append(row)
        for ref in series:
            self._series.setdefault(ref.calendar_id, []).append(ref)
        zoned = [(ref, _zone(owners[ref.calendar_id].default_tzid)) for ref in series]
        self._instances.update(self.cache.instances(zoned, self.window, self.uow.events.many))

    def _load_managed(self, subs: Sequence[str]) -> None:
        """The availability rules and available periods of the managed members, all at once."""
        new = [sub for sub in dict.fromkeys(subs) if sub not in self._rules]
        if not new:
            return
        for sub in new:
            self._rules[sub], self._periods[sub] = [], []
        for rule in self.uow.availability_rules.for_accounts(new):
            self._rules[rule.account_id].append(rule)
        start, end = self.span
        for period in self.uow.available_periods.for_accounts(new, instant(start), instant(end)):
            self._periods[period.account_id].append(period)

    def member(self, spec: MemberSpec) -> Member:
        account = self.accounts[spec.sub]
        account_zone = _zone(account.default_tzid)
        calendar_ids = self._calendars_of(account, spec)
        limits: list[Limit] = []
        if spec.available_periods is not None:
            periods = normalize((seconds(p.start), seconds(p.end)) for p in spec.available_periods)
            limits.append(Limit("available_periods", tuple(periods)))
        if spec.managed_availability:
            managed, rule_calendars = self._managed(account, spec)
            limits.append(Limit("managed_availability", tuple(managed)))
            if rule_calendars is not None:
                calendar_ids = tuple(c for c in calendar_ids if c in rule_calendars)
        busy = self._busy_of(calendar_ids, account_zone, spec)
        for constraint in spec.constraints:
            limit_zone = _zone(constraint.tzid or account.default_tzid)
            rule = constraints.Constraint(constraint.period, constraint.limit, limit_zone)
            limits.append(
                Limit("availability_constraints", constraints.allowed([b.start for b in busy], rule, self.span))
            )
        return Member(spec.sub, busy, tuple(limits), engine_buffer(spec.buffer) if spec.buffer else None)

    # --- the parts of a member ------------------------------------------------------------------------

    def _calendars_of(self, account: Account, spec: MemberSpec) -> tuple[str, ...]:
        owned = [c.id for c in self._calendars.get(account.id, []) if not c.deleted]
        if spec.calendar_ids is None:
            return tuple(owned)
        unknown = [c for c in spec.calendar_ids if c not in owned]
        if unknown:
            raise InvalidRequest.single(
                PARTICIPANTS, "errors.unknown_calendar", f"{spec.sub} has no calendars {', '.join(unknown)}"
            )
        return tuple(dict.fromkeys(spec.calendar_ids))

    def _managed(self, account: Account, spec: MemberSpec) -> tuple[list[Span], set[str] | None]:
        """The rules' and available periods' spans together, and the calendars the chosen rules name (None
        when some rule names none: then every calendar counts)."""
        rules = self._rules[account.id]
        if spec.availability_rule_ids is not None:
            known = {r.rule_id for r in rules}
            unknown = [r for r in spec.availability_rule_ids if r not in known]
            if unknown:
                raise InvalidRequest.single(
                    PARTICIPANTS, "errors.unknown_rule", f"{spec.sub} has no availability rules {', '.join(unknown)}"
                )
            rules = [r for r in rules if r.rule_id in spec.availability_rule_ids]
        start, end = self.span
        spans = [s for rule in rules for s in rule_spans(rule, start, end)]
        spans += [(seconds(p.starts_at), seconds(p.ends_at)) for p in self._periods[account.id]]
        calendars: set[str] | None = set()
        for rule in rules:
            if rule.calendar_ids is None or calendars is None:
                calendars = None
            else:
                calendars.update(rule.calendar_ids)
        return normalize(spans), (calendars if rules else None)

    def _busy_of(self, calendar_ids: tuple[str, ...], account_zone: tzinfo, spec: MemberSpec) -> list[Busy]:
        app = self.caller.application_id
        drop_ids = {e.event_id for e in self.excluded if e.event_id}
        drop_uids = {e.event_uid for e in self.excluded if e.event_uid}
        found: list[Busy] = []
        for calendar_id in calendar_ids:
            for row in self._rows.get(calendar_id, ()):
                if spec.ignore_tentative and row.tentative:
                    continue
                mine = row.event_id is not None and row.application_id == app
                if spec.only_managed_events and not mine:
                    continue
                if row.event_uid in drop_uids or (mine and row.event_id in drop_ids):
                    continue
                if row.all_day:
                    if row.start_date is not None and row.end_date is not None:
                        start = seconds(day_start(row.start_date, account_zone))
                        found.append(Busy(start, seconds(day_start(row.end_date, account_zone)), calendar_id))
                elif row.start is not None and row.end is not None:
                    found.append(Busy(row.start, row.end, calendar_id))
            for ref in self._series.get(calendar_id, ()):
                mine = ref.event_id is not None and ref.application_id == app
                if (spec.only_managed_events and not mine) or ref.event_uid in drop_uids:
                    continue
                if mine and ref.event_id in drop_ids:
                    continue
                for item in self._instances.get((ref.id, str(account_zone)), ()):
                    if not (spec.ignore_tentative and item.tentative) and item.uid not in drop_uids:
                        found.append(Busy(item.start, item.end, calendar_id))
        return found


def _zone(tzid: str) -> tzinfo:
    try:
        return zone(tzid)
    except BadTime:
        return UTC
