"""Calendar shapes: list and create, and application calendar requests."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from horae.api.schemas.identity import CalendarInProfile, calendar_in_profile
from horae.domain.model import Calendar, Profile


class CalendarInfo(CalendarInProfile):
    provider_name: str
    profile_id: str
    profile_name: str


class CalendarList(BaseModel):
    sub: str
    calendars: list[CalendarInfo]


class CreatedCalendar(BaseModel):
    calendar: CalendarInfo


class CreateCalendarRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    profile_id: str
    name: str
    color: str | None = None


class ApplicationCalendarRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    client_id: str = ""
    client_secret: str = ""
    application_calendar_id: str = ""


def calendar_info(calendar: Calendar, profile: Profile, unrestricted: bool, integrated: bool) -> CalendarInfo:
    return CalendarInfo(
        provider_name=profile.provider_name,
        profile_id=profile.id,
        profile_name=profile.name,
        **calendar_in_profile(calendar, unrestricted, integrated).model_dump(),
    )
