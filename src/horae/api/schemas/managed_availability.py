"""Shapes of availability rules and available periods on the wire, and their translation to the service's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from horae.api.schemas.event_reads import LocalizedTime, Pages
from horae.api.schemas.times import read_ends
from horae.domain.managed import AvailabilityRule, AvailablePeriod, WeeklyPeriod, period_time
from horae.domain.times import format_instant
from horae.errors import InvalidRequest
from horae.services.managed_availability import PeriodInput, PeriodPage, RuleInput


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- requests --------------------------------------------------------------------------------------------


class WeeklyPeriodRequest(_Loose):
    day: str = Field(description="sunday, monday, ... saturday; a day may have several periods")
    start_time: str = Field(description="24-hour HH:MM in the rule's tzid")
    end_time: str = Field(description="24-hour HH:MM after start_time; 24:00 is the end of the day")


class AvailabilityRuleRequest(_Loose):
    availability_rule_id: str = Field(description="The caller's id for the rule; writing it again replaces it")
    tzid: str = Field(description="IANA zone the weekly periods' times are in")
    calendar_ids: list[str] | None = Field(
        None, description="Calendars whose events count against the rule (default: all); each the account's"
    )
    weekly_periods: list[WeeklyPeriodRequest] = Field(description="May be empty: then never available")


class PeriodTime(_Loose):
    time: str = Field(description="A UTC time, or a local time without offset read in tzid")
    tzid: str | None = None


class AvailablePeriodRequest(_Loose):
    available_period_id: str = Field(description="The caller's id for the period; writing it again moves it")
    start: str | PeriodTime
    end: str | PeriodTime
    tzid: str | None = Field(None, description="The zone of {time} objects that name none (default Etc/UTC)")


class DeletePeriodsRequest(_Loose):
    available_period_id: str = Field("", description="The period to delete")
    delete_all: bool = Field(False, description="true: delete every period of the account")


def rule_input(req: AvailabilityRuleRequest) -> RuleInput:
    """The service's view of the rule (the service checks the values)."""
    return RuleInput(
        rule_id=req.availability_rule_id,
        tzid=req.tzid,
        weekly_periods=tuple(WeeklyPeriod(p.day, p.start_time, p.end_time) for p in req.weekly_periods),
        calendar_ids=tuple(req.calendar_ids) if req.calendar_ids is not None else None,
    )


def period_input(req: AvailablePeriodRequest) -> PeriodInput:
    """The service's view of the period; time problems become per-field 422 errors."""
    ends, problems = read_ends(req.start, req.end, req.tzid, period_time)
    if problems:
        raise InvalidRequest(problems)
    return PeriodInput(period_id=req.available_period_id, start=ends["start"], end=ends["end"])


# --- responses -------------------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WeeklyPeriodOut(_Out):
    day: str
    start_time: str
    end_time: str


class AvailabilityRuleOut(_Out):
    availability_rule_id: str
    tzid: str
    calendar_ids: list[str] | None = Field(None, description="Absent when the rule counts every calendar")
    weekly_periods: list[WeeklyPeriodOut]


class AvailabilityRuleResponse(_Out):
    availability_rule: AvailabilityRuleOut


class AvailabilityRulesResponse(_Out):
    availability_rules: list[AvailabilityRuleOut]


class AvailablePeriodOut(_Out):
    available_period_id: str
    start: str | LocalizedTime
    end: str | LocalizedTime


class AvailablePeriodsResponse(_Out):
    pages: Pages
    available_periods: list[AvailablePeriodOut]


def rule_out(rule: AvailabilityRule) -> AvailabilityRuleOut:
    return AvailabilityRuleOut(
        availability_rule_id=rule.rule_id,
        tzid=rule.tzid,
        calendar_ids=list(rule.calendar_ids) if rule.calendar_ids is not None else None,
        weekly_periods=[
            WeeklyPeriodOut(day=p.day, start_time=p.start_time, end_time=p.end_time) for p in rule.weekly_periods
        ],
    )


def periods_response(page: PeriodPage, next_url: str | None) -> AvailablePeriodsResponse:
    tzid, localized = page.window.tzid, page.window.localized_times

    def shown(period: AvailablePeriod) -> AvailablePeriodOut:
        start, end = format_instant(period.starts_at), format_instant(period.ends_at)
        if localized:
            return AvailablePeriodOut(
                available_period_id=period.period_id,
                start=LocalizedTime(time=start, tzid=tzid),
                end=LocalizedTime(time=end, tzid=tzid),
            )
        return AvailablePeriodOut(available_period_id=period.period_id, start=start, end=end)

    return AvailablePeriodsResponse(
        pages=Pages(current=page.current, total=page.total, next_page=next_url),
        available_periods=[shown(p) for p in page.items],
    )


# --- documented request bodies ----------------------------------------------------------------------------

# An id as the service accepts it: 1 to 64 printable ASCII characters (horae.domain.managed.valid_id).
ID_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[\\x20-\\x7e]+$"}
START_TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
END_TIME = {"type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}
LOCAL_TIME = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$"}
