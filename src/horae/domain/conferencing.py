"""Conferencing on events: what an upsert's `conferencing` asks for, the details a provider returns, and the
`{{ cronofy.conferencing.* }}` templates in descriptions, rendered with the best details known or a
localized "details to follow" fallback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT, INTEGRATED, EXPLICIT, NONE = "default", "integrated", "explicit", "none"
MODES = (DEFAULT, INTEGRATED, EXPLICIT, NONE)
MAX_URL = 2048
MAX_DESCRIPTION = 200

# `{{ cronofy.conferencing.join_url }}`, spaces inside the braces optional, as Liquid-style templates allow.
_VARIABLE = re.compile(r"\{\{\s*cronofy\.conferencing\.(?P<name>[a-z_]+)\s*\}\}")
VARIABLES = ("join_url", "invite_block")

# The fallback while details are not known yet, and the invite block's words, by language. A locale such as
# `fr-CA` uses its language (`fr`); an unknown one uses English (docs/compat.md).
FALLBACK = {"en": "(Details to follow)", "de": "(Details folgen)", "fr": "(Détails à venir)"}
_JOIN = {"en": "Join {provider}", "de": "An {provider} teilnehmen", "fr": "Rejoindre {provider}"}
_PASSCODE = {"en": "Passcode: {code}", "de": "Kenncode: {code}", "fr": "Code secret : {code}"}
_DIAL = {"en": "Dial in: {number}", "de": "Einwahl: {number}", "fr": "Numéro d'appel : {number}"}


class BadConferencing(ValueError):
    """An upsert's `conferencing` or template that Horae cannot accept; `field` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ConferencingRequest:
    """What an upsert asks for: a mode (`default`, `integrated`, `explicit`, `none`) or a conferencing
    profile id, and for `explicit` the details to write as given."""

    profile_id: str
    provider_description: str | None = None
    join_url: str | None = None

    @property
    def by_profile(self) -> bool:
        return self.profile_id not in MODES


@dataclass(frozen=True)
class ConferencingDetails:
    """A conference's details as reads show them (`provider_name`, `join_url`) and as the invite block
    writes them (dial-in numbers and a passcode where the provider gives them)."""

    provider_name: str
    join_url: str
    passcode: str | None = None
    dial_ins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meeting:
    """What a conferencing service is asked to create or update for an event."""

    summary: str
    starts_at: datetime
    ends_at: datetime
    tzid: str = "Etc/UTC"


@dataclass(frozen=True)
class Provisioned:
    """A conference a service made: its id there (to update or delete it) and its details."""

    remote_id: str
    details: ConferencingDetails


def parse_request(raw: Any) -> ConferencingRequest:
    """The upsert's `conferencing` object, checked."""
    if not isinstance(raw, dict):
        raise BadConferencing("conferencing", "conferencing must be an object with a profile_id")
    profile_id = raw.get("profile_id")
    if not isinstance(profile_id, str) or not profile_id.strip():
        raise BadConferencing("conferencing.profile_id", "conferencing.profile_id must be specified")
    profile_id = profile_id.strip()
    if profile_id not in MODES and not re.fullmatch(r"pro_[A-Za-z0-9_]{1,60}", profile_id):
        raise BadConferencing(
            "conferencing.profile_id",
            f"conferencing.profile_id must be one of {', '.join(MODES)} or a conferencing profile id",
        )
    if profile_id != EXPLICIT:
        return ConferencingRequest(profile_id)
    description, url = raw.get("provider_description"), raw.get("join_url")
    if not isinstance(description, str) or not description.strip() or len(description) > MAX_DESCRIPTION:
        raise BadConferencing(
            "conferencing.provider_description",
            f"explicit conferencing needs a provider_description of 1 to {MAX_DESCRIPTION} characters",
        )
    if not isinstance(url, str) or not re.match(r"^https?://\S+$", url) or len(url) > MAX_URL:
        raise BadConferencing("conferencing.join_url", "explicit conferencing needs an http(s) join_url")
    return ConferencingRequest(EXPLICIT, description.strip(), url)


def check_templates(description: str | None, location_description: str | None) -> None:
    """Only the two known variables, and no invite block in the location (one line, where it would not fit)."""
    for field, text in (("description", description), ("location.description", location_description)):
        for found in _VARIABLE.finditer(text or ""):
            name = found.group("name")
            if name not in VARIABLES:
                raise BadConferencing(field, f"unknown template variable cronofy.conferencing.{name}")
            if name == "invite_block" and field == "location.description":
                raise BadConferencing(field, "cronofy.conferencing.invite_block cannot be used in location.description")


def has_templates(text: str | None) -> bool:
    return bool(text) and _VARIABLE.search(text or "") is not None


def language(locale: str | None) -> str:
    """The language whose words are used: `fr-CA` → `fr`; unknown or missing → `en`."""
    base = (locale or "").strip().replace("_", "-").split("-")[0].lower()
    return base if base in FALLBACK else "en"


def render(text: str, details: ConferencingDetails | None, locale: str | None = None) -> str:
    """`text` with its variables replaced: the details when known, otherwise the localized fallback."""
    lang = language(locale)

    def value(found: re.Match[str]) -> str:
        if details is None:
            return FALLBACK[lang]
        if found.group("name") == "join_url":
            return details.join_url
        return invite_block(details, lang)

    return _VARIABLE.sub(value, text)


def invite_block(details: ConferencingDetails, lang: str = "en") -> str:
    """The multi-line block: how to join, the join URL, dial-ins and passcode where known."""
    lines = [_JOIN[lang].format(provider=details.provider_name), details.join_url]
    lines += [_DIAL[lang].format(number=number) for number in details.dial_ins]
    if details.passcode:
        lines.append(_PASSCODE[lang].format(code=details.passcode))
    return "\n".join(lines)


# --- per-event subscriptions and the stored state ---------------------------------------------------------

ASSIGNED, FAILING = "conferencing_assigned", "conferencing_failing"
INTERACTIONS = (ASSIGNED, FAILING)
MAX_SUBSCRIPTIONS = 10
# What `event.details["conferencing"]["state"]` holds: waiting for a service, details known, tries used up.
PENDING, READY, GAVE_UP = "pending", "ready", "gave_up"


def parse_subscriptions(raw: Any) -> list[dict[str, Any]]:
    """The upsert's `subscriptions`: webhooks with the conferencing interactions they want."""
    if not isinstance(raw, list) or len(raw) > MAX_SUBSCRIPTIONS:
        raise BadConferencing("subscriptions", f"subscriptions must be a list of at most {MAX_SUBSCRIPTIONS}")
    kept: list[dict[str, Any]] = []
    for n, entry in enumerate(raw):
        where = f"subscriptions.{n}"
        if not isinstance(entry, dict) or entry.get("type") != "webhook":
            raise BadConferencing(f"{where}.type", "a subscription's type must be webhook")
        uri = entry.get("uri")
        if not isinstance(uri, str) or not re.match(r"^https?://\S+$", uri) or len(uri) > MAX_URL:
            raise BadConferencing(f"{where}.uri", "a subscription's uri must be an http(s) URL")
        wanted = entry.get("interactions")
        if not isinstance(wanted, list) or not wanted:
            raise BadConferencing(f"{where}.interactions", "name at least one interaction")
        types = [i.get("type") if isinstance(i, dict) else None for i in wanted]
        unknown = [t for t in types if t not in INTERACTIONS]
        if unknown:
            raise BadConferencing(f"{where}.interactions", f"interactions must be among {', '.join(INTERACTIONS)}")
        kept.append({"type": "webhook", "uri": uri, "interactions": [{"type": t} for t in dict.fromkeys(types)]})
    return kept


def wanting(subscriptions: Any, interaction: str) -> list[str]:
    """The URIs of the subscriptions that asked for this interaction."""
    found = []
    for entry in subscriptions if isinstance(subscriptions, list) else []:
        kinds = {i.get("type") for i in entry.get("interactions", []) if isinstance(i, dict)}
        if interaction in kinds and isinstance(entry.get("uri"), str):
            found.append(entry["uri"])
    return found


def details_of(state: dict[str, Any]) -> ConferencingDetails | None:
    """The details a stored state holds, when it holds any."""
    if state.get("state") != READY or not state.get("join_url"):
        return None
    return ConferencingDetails(
        str(state.get("provider_name") or ""),
        str(state["join_url"]),
        state.get("passcode") or None,
        tuple(str(d) for d in state.get("dial_ins") or ()),
    )


def with_details(state: dict[str, Any], provisioned: Provisioned) -> dict[str, Any]:
    """The state once a service made the conference."""
    found = provisioned.details
    return {
        **state,
        "state": READY,
        "remote_id": provisioned.remote_id,
        "provider_name": found.provider_name,
        "join_url": found.join_url,
        "passcode": found.passcode,
        "dial_ins": list(found.dial_ins),
    }


def as_read(state: Any) -> dict[str, Any] | None:
    """`conferencing` as event reads show it: the details, `{"pending": true}` while waiting, else nothing."""
    if not isinstance(state, dict) or state.get("state") not in (PENDING, READY):
        return None  # none asked for, or every try failed (the event stays, without conferencing)
    details = details_of(state)
    if details is None:
        return {"pending": True}
    return {"provider_name": details.provider_name, "join_url": details.join_url}


# --- conferencing profiles: a person's Zoom or Teams account ----------------------------------------------

# Provider keys (plugins) and the wire names userinfo shows for them (Cronofy: go_to, zoom, ms_teams).
WIRE_NAMES = {"zoom": "zoom", "teams": "ms_teams"}


@dataclass(eq=False)
class ConferencingProfile:
    """A conferencing account connected to a calendar account (`pro_...`), through which conferences are
    provisioned when an upsert names it, or when it is the account's default."""

    id: str
    account_id: str
    provider_key: str  # the plugin: zoom, teams
    name: str  # the account's email address there
    status: str  # "active" | "disconnected"
    created_at: datetime
    is_default: bool = False
    connection: dict[str, str] | None = None
    sealed_credentials: str | None = None

    @property
    def provider_name(self) -> str:
        return WIRE_NAMES.get(self.provider_key, self.provider_key)

    @property
    def connected(self) -> bool:
        return self.status == "active"
