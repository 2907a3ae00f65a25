"""Which IANA zone an iCalendar TZID stands for: its own name, a Windows or vendor id, or a custom
VTIMEZONE matched by its offsets over two years."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import available_timezones

import icalendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from horae.domain.times import BadTime, zone

# What icalendar and the standard library raise on input they cannot read (ical.py makes it ICalError).
READ_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, UnicodeError)


def _iana(tzid: str) -> str | None:
    """The IANA name a TZID stands for without looking at its VTIMEZONE: itself, a Windows name, or a
    libical-style "/vendor/Area/City" id."""
    cleaned = tzid.strip().strip("/")
    candidates = [tzid.strip(), cleaned, WINDOWS_TO_OLSON.get(cleaned, "")]
    parts = cleaned.split("/")
    candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
    for candidate in candidates:
        try:
            zone(candidate)
        except BadTime:
            continue
        return candidate
    return None


# Where a custom VTIMEZONE matches several IANA zones, the widely used ones win (then CLDR's main zone
# of each Windows zone): Outlook's US Eastern definition should become America/New_York, not Grand_Turk.
MAJOR_ZONES = """
    Etc/UTC America/New_York America/Chicago America/Denver America/Phoenix America/Los_Angeles America/Anchorage
    Pacific/Honolulu America/Halifax America/St_Johns America/Toronto America/Mexico_City America/Sao_Paulo
    America/Argentina/Buenos_Aires Europe/London Europe/Dublin Europe/Lisbon Europe/Berlin Europe/Paris Europe/Athens
    Europe/Helsinki Europe/Istanbul Europe/Moscow Africa/Cairo Africa/Lagos Africa/Johannesburg Asia/Jerusalem
    Asia/Dubai Asia/Karachi Asia/Kolkata Asia/Bangkok Asia/Singapore Asia/Shanghai Asia/Hong_Kong Asia/Tokyo
    Asia/Seoul Australia/Perth Australia/Adelaide Australia/Brisbane Australia/Sydney Pacific/Auckland
"""


@functools.cache
def _preferred_zones() -> tuple[str, ...]:
    """IANA zones to match a custom VTIMEZONE against, best first."""
    usable = {name for name in available_timezones() if not name.startswith(("posix/", "right/", "SystemV/"))}
    major = [name for name in MAJOR_ZONES.split() if name in usable]
    main = sorted(set(WINDOWS_TO_OLSON.values()) & usable - set(major))
    return tuple(major + main + sorted(usable - set(major) - set(main)))


@functools.lru_cache(maxsize=256)
def _matching_zone(definition: bytes, year: int) -> str | None:
    """The IANA zone whose UTC offset equals the VTIMEZONE's at noon UTC every day of `year` and the
    next (so DST rules must agree, not only the offsets)."""
    try:
        parsed = icalendar.Timezone.from_ical(definition)
        assert isinstance(parsed, icalendar.Timezone)
        custom = parsed.to_tz(lookup_tzid=False)
        days = [datetime(year, 1, 1, 12, tzinfo=UTC) + timedelta(days=n) for n in range(731)]
        wanted = [day.astimezone(custom).utcoffset() for day in days]
    except READ_ERRORS:
        return None
    probes = (0, 196)  # mid-January and mid-July rule out most zones cheaply
    for name in _preferred_zones():
        tz = zone(name)
        if all(days[i].astimezone(tz).utcoffset() == wanted[i] for i in probes) and all(
            day.astimezone(tz).utcoffset() == offset for day, offset in zip(days, wanted, strict=True)
        ):
            return name
    return None


class Zones:
    """TZID resolution for one calendar, using its own VTIMEZONEs (never icalendar's process-wide cache,
    which would let one feed's custom definition leak into another's)."""

    def __init__(self, calendar: icalendar.Component, default_tzid: str) -> None:
        self.default_tzid = default_tzid
        self.definitions = {
            str(tz.get("TZID", "")): tz for tz in calendar.walk("VTIMEZONE") if isinstance(tz, icalendar.Timezone)
        }

    def resolve(self, tzid: str, year: int) -> tuple[str, tzinfo]:
        """(the tzid to store, the zone to read wall times in)."""
        name = _iana(tzid)
        if name is not None:
            return name, zone(name)
        definition = self.definitions.get(tzid)
        if definition is None:  # RFC 5545 requires the VTIMEZONE; without it the best guess is floating
            return self.default_tzid, zone(self.default_tzid)
        name = _matching_zone(definition.to_ical(), year)
        if name is not None:
            return name, zone(name)
        # No IANA zone behaves the same: keep the instants right and store them as UTC.
        return "Etc/UTC", definition.to_tz(lookup_tzid=False)
