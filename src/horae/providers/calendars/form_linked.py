"""What the form-linked providers (CalDAV, ICS feeds) share: an HTTP client that refuses private addresses
when the settings say so, checks of the URLs people type in, and which events a full listing includes."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

import httpx

from horae.domain.remote import RemoteEvent
from horae.errors import InvalidRequest


class BlockedHost(httpx.TransportError):
    """A request to a loopback or private address while the settings allow none (the request hook refused it)."""


def allows_loopback(options: Mapping[str, str]) -> bool:
    return str(options.get("allow_loopback", "False")).strip().lower() == "true"


def is_private_host(host: str) -> bool:
    """Whether `host` is, or resolves to, an address outside the public internet (loopback, private, link
    local, shared, reserved). A name that does not resolve is not private: connecting to it fails anyway."""
    bare = host.strip("[]")
    try:
        addresses = [ipaddress.ip_address(bare)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(bare, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return False
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        if not (mapped or address).is_global:
            return True
    return False


def http_client(options: Mapping[str, str], transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The one client a provider instance sends with. Unless loopback is allowed, every request (each
    redirect hop included) is refused when its host is private, so a user-given URL cannot reach inside."""

    def guard(request: httpx.Request) -> None:
        if is_private_host(request.url.host):
            raise BlockedHost("refused: the address is on a loopback or private network", request=request)

    return httpx.Client(
        timeout=float(options.get("timeout_seconds") or 20.0),
        follow_redirects=False,
        transport=transport,
        event_hooks={"request": [] if allows_loopback(options) else [guard]},
        headers={"User-Agent": "Horae calendar sync"},
    )


def checked_url(raw: str, field: str, allow_loopback: bool, schemes: Mapping[str, str] | None = None) -> str:
    """A user-given server URL, with https:// added when no scheme is given, or InvalidRequest for `field`.
    `schemes` maps accepted schemes to the one used (webcal -> https); http and https by default."""
    accepted = dict(schemes or {"http": "http", "https": "https"})
    text = raw.strip()
    if not text:
        raise InvalidRequest.single(field, "errors.required", f"{field} is required")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise InvalidRequest.single(field, "errors.invalid_url", f"{field} is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in accepted or not parts.hostname or any(c.isspace() for c in text):
        names = ", ".join(f"{s}://" for s in accepted)
        raise InvalidRequest.single(field, "errors.invalid_url", f"{field} must be a URL starting with {names}")
    if not allow_loopback and is_private_host(parts.hostname):
        raise InvalidRequest.single(
            field, "errors.invalid_url", f"{field} names a loopback or private network address; use a public one"
        )
    return accepted[scheme] + text[len(parts.scheme) :]


def in_window(remote: RemoteEvent, window: tuple[datetime, datetime]) -> bool:
    """Whether a full listing of `window` includes this event: a series when it starts before the window
    ends, anything else when it overlaps the window. All-day dates float, so they are widened by 14 hours
    each side (every zone's view of the day)."""
    begin, finish = window
    if remote.start.instant is not None and remote.end.instant is not None:
        first, last = remote.start.instant, remote.end.instant
    else:
        assert remote.start.day is not None and remote.end.day is not None
        first = datetime.combine(remote.start.day, time(), UTC) - timedelta(hours=14)
        last = datetime.combine(remote.end.day, time(), UTC) + timedelta(hours=14)
    if remote.recurrence is not None:
        return first < finish
    return first < finish and (last > begin or (last == first and first >= begin))
