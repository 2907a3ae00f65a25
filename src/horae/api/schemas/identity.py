"""Shapes of userinfo, account, profiles and calendars, and how to build them from an Identity."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from horae.domain.conferencing import ConferencingProfile
from horae.domain.model import Calendar, Profile
from horae.services.identity import Identity


class CalendarInProfile(BaseModel):
    calendar_id: str
    calendar_name: str
    calendar_readonly: bool
    calendar_deleted: bool
    calendar_primary: bool
    calendar_integrated_conferencing_available: bool
    calendar_attachments_available: bool
    permission_level: str


class ProfileInfo(BaseModel):
    provider_name: str
    provider_service: str
    profile_id: str
    profile_name: str
    profile_connected: bool
    profile_relink_url: str | None = None


class ConferencingProfileInfo(BaseModel):
    provider_name: str
    profile_id: str
    profile_name: str
    profile_connected: bool
    profile_default: bool = Field(description="Horae: the one `default` conferencing uses without integrated")
    profile_relink_url: str | None = None


class UserinfoProfile(ProfileInfo):
    profile_initial_sync_required: bool
    profile_calendars: list[CalendarInProfile]


class Authorization(BaseModel):
    scope: str
    status: str


class CronofyData(BaseModel):
    authorization: Authorization
    profiles: list[UserinfoProfile]
    conferencing_profiles: list[ConferencingProfileInfo]


class Userinfo(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    sub: str
    email: str
    name: str
    zoneinfo: str
    cronofy_type: str = Field(alias="cronofy.type")
    cronofy_data: CronofyData = Field(alias="cronofy.data")


class AccountInfo(BaseModel):
    account_id: str
    email: str
    name: str
    default_tzid: str
    scope: str


class AccountResponse(BaseModel):
    account: AccountInfo


class ProfilesResponse(BaseModel):
    profiles: list[ProfileInfo]


def calendar_in_profile(calendar: Calendar, unrestricted: bool, integrated: bool) -> CalendarInProfile:
    return CalendarInProfile(
        calendar_id=calendar.id,
        calendar_name=calendar.name,
        calendar_readonly=calendar.readonly,
        calendar_deleted=calendar.deleted,
        calendar_primary=calendar.primary,
        calendar_integrated_conferencing_available=integrated,
        calendar_attachments_available=False,
        permission_level="unrestricted" if unrestricted else "sandbox",
    )


def profile_info(profile: Profile, base_url: str) -> ProfileInfo:
    return ProfileInfo(**_profile_fields(profile, base_url))


def _profile_fields(profile: Profile, base_url: str) -> dict[str, object]:
    fields: dict[str, object] = {
        "provider_name": profile.provider_name,
        "provider_service": profile.provider_service,
        "profile_id": profile.id,
        "profile_name": profile.name,
        "profile_connected": profile.connected,
    }
    if not profile.connected:
        fields["profile_relink_url"] = f"{base_url}/profiles/{profile.id}/relink"
    return fields


def userinfo(identity: Identity, base_url: str, integrated: Callable[[Profile], bool]) -> Userinfo:
    account = identity.account
    profiles = [
        UserinfoProfile(
            **_profile_fields(p, base_url),
            profile_initial_sync_required=p.status == "pending",
            profile_calendars=[
                calendar_in_profile(c, c.id in identity.unrestricted, integrated(p))
                for c in identity.calendars_of(p.id)
            ],
        )
        for p in identity.profiles
    ]
    return Userinfo(
        sub=account.id,
        email=account.email,
        name=account.name,
        zoneinfo=account.default_tzid,
        cronofy_type="account" if account.kind != "service_account" else "service_account",
        cronofy_data=CronofyData(
            authorization=Authorization(scope=identity.scope, status="active"),
            profiles=profiles,
            conferencing_profiles=[conferencing_profile_info(p, base_url) for p in identity.conferencing],
        ),
    )


def account(identity: Identity) -> AccountResponse:
    a = identity.account
    return AccountResponse(
        account=AccountInfo(
            account_id=a.id, email=a.email, name=a.name, default_tzid=a.default_tzid, scope=identity.scope
        )
    )


def conferencing_profile_info(profile: ConferencingProfile, base_url: str) -> ConferencingProfileInfo:
    return ConferencingProfileInfo(
        provider_name=profile.provider_name,
        profile_id=profile.id,
        profile_name=profile.name,
        profile_connected=profile.connected,
        profile_default=profile.is_default,
        profile_relink_url=None if profile.connected else f"{base_url}/dashboard/conferencing/{profile.id}/relink",
    )
