"""Turning the members of an availability query into the engine's terms: who they are (and whether the
caller may ask about them), their busy blocks from the store, and the limits on when they are available."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from horae.domain import constraints, recurrence, scopes
from horae.domain.availability import Buffer, Busy, Group, Limit, Member
from horae.domain.events import BusyRow, Event
from horae.domain.intervals import Span, normalize
from horae.domain.managed import rule_spans
from horae.domain.model import Account
from horae.domain.paging import Window, day_start, window_of_instants
from horae.domain.times import BadTime, zone
from horae.errors import InvalidRequest, PermissionDenied
from horae.ports import UnitOfWork
from horae.services.availability_request import BufferSpec, Caller, ExcludedEvent, GroupSpec, MemberSpec

READ_FREE_BUSY = "read_free_busy"
PARTICIPANTS = "participants"


def seconds(instant: datetime) -> int:
    return int(instant.timestamp())


def instant(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def engine_buffer(spec: BufferSpec) -> Buffer:
    return Buffer(spec.before, spec.after)


@dataclass
class MemberReader:
    """Reads members inside one unit of work, each account and calendar set once per query."""

    uow: UnitOfWork
    caller: Caller
    span: Span  # the whole query, widened by the largest buffer
    excluded: Sequence[ExcludedEvent] = ()
    accounts: dict[str, Account] = field(default_factory=dict)
    _busy: dict[tuple[str, ...], tuple[list[BusyRow], list[Event]]] = field(default_factory=dict)

    def groups(self, specs: Sequence[GroupSpec]) -> tuple[Group, ...]:
        return tuple(
            Group(
                tuple(self.member(m) for m in spec.members),
                len(spec.members) if spec.required is None else spec.required,
            )
            for spec in specs
        )

    def account(self, sub: str) -> Account:
        """The member's account, if the caller may read its free/busy: with an account token only its own
        account (and with read_free_busy); with the API key any account that granted the application
        read_free_busy. Unknown and unauthorized subs get the same answer."""
        if sub in self.accounts:
            return self.accounts[sub]
        if self.caller.account_id is not None:
            if READ_FREE_BUSY not in self.caller.permissions:
                raise PermissionDenied("the read_free_busy scope is required")
            allowed = sub == self.caller.account_id
        else:
            grants = self.uow.grants.active_for(sub, self.caller.application_id)
            allowed = any(READ_FREE_BUSY in scopes.effective(g.scope.split()) for g in grants)
        account = self.uow.accounts.get(sub) if allowed else None
        if account is None:
            raise InvalidRequest.single(
                PARTICIPANTS,
                "errors.unknown_sub",
                f"{sub} is not an account that granted this application read_free_busy",
            )
        self.accounts[sub] = account
        return account

    def member(self, spec: MemberSpec) -> Member:
        account = self.account(spec.sub)
        account_zone = _zone(account.default_tzid)
        calendar_ids = self._calendars(account, spec)
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

    def _calendars(self, account: Account, spec: MemberSpec) -> tuple[str, ...]:
        owned = [c.id for c in self.uow.calendars.for_account(account.id) if not c.deleted]
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
        rules = self.uow.availability_rules.for_account(account.id)
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
        periods = self.uow.available_periods.for_account(account.id, instant(start), instant(end))
        spans += [(seconds(p.starts_at), seconds(p.ends_at)) for p in periods]
        calendars: set[str] | None = set()
        for rule in rules:
            if rule.calendar_ids is None or calendars is None:
                calendars = None
            else:
                calendars.update(rule.calendar_ids)
        return normalize(spans), (calendars if rules else None)

    def _busy_of(self, calendar_ids: tuple[str, ...], account_zone: tzinfo, spec: MemberSpec) -> list[Busy]:
        window = window_of_instants(instant(self.span[0]), instant(self.span[1]), account_zone)
        key = tuple(sorted(calendar_ids))
        if key not in self._busy:
            self._busy[key] = self.uow.events.busy(key, _padded(window)) if key else ([], [])
        rows, masters = self._busy[key]
        app = self.caller.application_id
        drop_ids = {e.event_id for e in self.excluded if e.event_id}
        drop_uids = {e.event_uid for e in self.excluded if e.event_uid}
        found: list[Busy] = []
        for row in rows:
            if spec.ignore_tentative and row.tentative:
                continue
            mine = row.event_id is not None and row.application_id == app
            if (
                (spec.only_managed_events and not mine)
                or row.event_uid in drop_uids
                or (mine and row.event_id in drop_ids)
            ):
                continue
            block = _span_of(row, account_zone)
            if block is not None:
                found.append(Busy(block[0], block[1], row.calendar_id))
        for master in masters:
            mine = master.event_id is not None and master.application_id == app
            if (spec.only_managed_events and not mine) or master.event_uid in drop_uids:
                continue
            if mine and master.event_id in drop_ids:
                continue
            found.extend(_instances(master, window, account_zone, spec.ignore_tentative, drop_uids))
        return found


def _padded(window: Window) -> Window:
    """One more day each side: all-day events are busy in their owner's zone, which may lie either way."""
    return Window(window.start, window.end, window.first_day - timedelta(days=1), window.last_day + timedelta(days=1))


def _zone(tzid: str) -> tzinfo:
    try:
        return zone(tzid)
    except BadTime:
        return UTC


def _span_of(row: BusyRow, account_zone: tzinfo) -> Span | None:
    if row.all_day:
        if row.start_date is None or row.end_date is None:
            return None
        return seconds(day_start(row.start_date, account_zone)), seconds(day_start(row.end_date, account_zone))
    if row.starts_at is None or row.ends_at is None:
        return None
    return seconds(row.starts_at), seconds(row.ends_at)


def _instances(
    master: Event, window: Window, account_zone: tzinfo, ignore_tentative: bool, drop: set[str]
) -> list[Busy]:
    found = []
    for item in recurrence.instances(master, _padded(window)):
        fields = item.fields
        if item.deleted or recurrence.instance_uid(master, item.key) in drop:
            continue
        if fields.get("transparency", master.transparency) == "transparent":
            continue
        status = fields.get("status", master.status)
        participation = fields.get("participation_status", master.participation_status)
        if status == "cancelled" or participation == "declined":
            continue
        if ignore_tentative and "tentative" in (status, participation):
            continue
        row = BusyRow(
            master.calendar_id, "", None, None, master.all_day, item.starts_at, item.ends_at,
            item.start_date, item.end_date, False,
        )  # fmt: skip
        block = _span_of(row, account_zone)
        if block is not None:
            found.append(Busy(block[0], block[1], master.calendar_id))
    return found
