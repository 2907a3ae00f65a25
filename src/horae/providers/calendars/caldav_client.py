"""A small synchronous CalDAV client over httpx: discovery, calendar listing, sync, multiget and conditional writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

import httpx
from defusedxml import ElementTree as SafeElementTree

from horae.providers.calendars.caldav_errors import EXCERPT_CHARS, CalDAVError, PreconditionFailed, error_for

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CALSERVER = "http://calendarserver.org/ns/"
APPLE_ICAL = "http://apple.com/ns/ical/"
# Privileges that let the current user change a calendar's objects (RFC 3744 §3); any one of them is enough.
WRITE_PRIVILEGES = {"all", "write", "write-content", "bind"}


@dataclass(frozen=True)
class RemoteCalendar:
    """One calendar collection as the server describes it; `href` is what every other call takes."""

    href: str
    name: str
    color: str | None
    ctag: str | None
    sync_token: str | None
    holds_events: bool
    read_only: bool


@dataclass(frozen=True)
class SyncResult:
    """What changed since a sync token: changed objects with their etags, deleted hrefs, and the token to
    use next time. `truncated` means the server stopped early and the caller should sync again from `token`."""

    token: str
    changed: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    truncated: bool = False


class CalDAVClient:
    """Speaks CalDAV to one account on one server.

    Args:
        http: the client to send with; its timeouts, transport and redirect policy apply to every call.
        base_url: the server (`https://caldav.example.com`, discovered through `/.well-known/caldav`) or
            any URL on it that names or leads to the user's principal.
        username: the account's login, sent with basic auth.
        password: its password (or app-specific password).
        home: the calendar home to use instead of discovering the user's own (a service user reaching
            another person's calendars, Enterprise Connect).
    """

    def __init__(
        self, http: httpx.Client, base_url: str, username: str, password: str, home: str | None = None
    ) -> None:
        self._http = http
        self.base_url = base_url
        self._auth = httpx.BasicAuth(username, password)
        self._home: str | None = home

    def principal(self) -> str:
        """The current user's principal href (RFC 5397), found from the base URL."""
        start = self.base_url
        if urlsplit(start).path in ("", "/"):
            start = urljoin(start, "/.well-known/caldav")  # RFC 6764 §5: bare hosts publish the context path here
        try:
            found = self._propfind(start, [(DAV, "current-user-principal")], depth="0", discovering=True)
        except CalDAVError as exc:
            if exc.status != 404 or start == self.base_url:
                raise
            # Servers without the well-known URL usually answer at the root instead.
            found = self._propfind(self.base_url, [(DAV, "current-user-principal")], depth="0", discovering=True)
        for props in found.values():
            href = _child_href(props.get(_tag(DAV, "current-user-principal")))
            if href:
                return _normalise(self, start, href)
        raise CalDAVError("the server names no current-user-principal")

    def home(self) -> str:
        """The href of the collection holding the user's calendars (RFC 4791 calendar-home-set), cached."""
        if self._home is None:
            principal = self.principal()
            found = self._propfind(principal, [(CALDAV, "calendar-home-set")], depth="0", discovering=True)
            hrefs = [_child_href(p.get(_tag(CALDAV, "calendar-home-set"))) for p in found.values()]
            home = next((h for h in hrefs if h), None)
            if home is None:
                raise CalDAVError("the principal names no calendar-home-set")
            self._home = _normalise(self, urljoin(self.base_url, principal), home)
        return self._home

    def calendars(self, versions: bool = True) -> list[RemoteCalendar]:
        """Every calendar collection in the home set (non-calendar collections are left out). Without
        `versions` the ctag and sync-token are not asked for: some servers (Radicale) hash every object to
        answer them, which made discovery cost more than the sync itself on large calendars."""
        wanted = [
            (DAV, "resourcetype"),
            (DAV, "displayname"),
            (APPLE_ICAL, "calendar-color"),
            (CALDAV, "supported-calendar-component-set"),
            (DAV, "current-user-privilege-set"),
        ]
        if versions:
            wanted += [(CALSERVER, "getctag"), (DAV, "sync-token")]
        found = self._propfind(self.home(), wanted, depth="1")
        calendars = []
        for href, props in found.items():
            kind = props.get(_tag(DAV, "resourcetype"))
            if kind is None or kind.find(_tag(CALDAV, "calendar")) is None:
                continue
            calendars.append(
                RemoteCalendar(
                    href=href,
                    name=_text(props, DAV, "displayname") or href.rstrip("/").rsplit("/", 1)[-1],
                    color=_text(props, APPLE_ICAL, "calendar-color"),
                    ctag=_text(props, CALSERVER, "getctag"),
                    sync_token=_text(props, DAV, "sync-token"),
                    holds_events=_holds_events(props.get(_tag(CALDAV, "supported-calendar-component-set"))),
                    read_only=_read_only(props.get(_tag(DAV, "current-user-privilege-set"))),
                )
            )
        return calendars

    def make_calendar(self, slug: str, name: str, color: str | None = None) -> str:
        """Creates a VEVENT calendar `slug` in the home set (MKCALENDAR) and returns its href."""
        href = urljoin(self.home(), quote(slug.strip("/"), safe="") + "/")
        root = Element(_tag(CALDAV, "mkcalendar"))
        props = SubElement(SubElement(root, _tag(DAV, "set")), _tag(DAV, "prop"))
        SubElement(props, _tag(DAV, "displayname")).text = name
        if color:
            SubElement(props, _tag(APPLE_ICAL, "calendar-color")).text = color
        components = SubElement(props, _tag(CALDAV, "supported-calendar-component-set"))
        SubElement(components, _tag(CALDAV, "comp"), name="VEVENT")
        self._send("MKCALENDAR", href, body=root)
        return href

    def sync(self, calendar_href: str, token: str | None) -> SyncResult:
        """Changes since `token` (everything when None) via the RFC 6578 sync-collection REPORT.

        Raises SyncTokenInvalid when the server no longer knows the token; the caller lists in full then.
        """
        root = Element(_tag(DAV, "sync-collection"))
        SubElement(root, _tag(DAV, "sync-token")).text = token or ""
        SubElement(root, _tag(DAV, "sync-level")).text = "1"
        SubElement(SubElement(root, _tag(DAV, "prop")), _tag(DAV, "getetag"))
        # RFC 6578 §3.2: the Depth header must be 0; sync-level in the body says how deep to look.
        response = self._send("REPORT", calendar_href, body=root, depth="0", sync_report=True)
        tree = _parse(response)
        collection = _normalise(self, str(response.url), calendar_href)
        changed: dict[str, str] = {}
        deleted: list[str] = []
        truncated = False
        for node in tree.findall(_tag(DAV, "response")):
            href = _normalise(self, str(response.url), node.findtext(_tag(DAV, "href")) or "")
            status = _status(node.findtext(_tag(DAV, "status")))
            if href == collection:
                truncated = status == 507  # §3.6: a 507 on the collection itself means the answer was cut short
            elif status == 404:
                deleted.append(href)
            else:
                etag = _text(_ok_props(node), DAV, "getetag")
                if etag is not None:
                    changed[href] = etag
        token_now = (tree.findtext(_tag(DAV, "sync-token")) or "").strip()
        return SyncResult(token=token_now, changed=changed, deleted=deleted, truncated=truncated)

    def list_etags(self, calendar_href: str) -> dict[str, str]:
        """Every object in the calendar with its etag (PROPFIND Depth 1), for servers without sync-collection."""
        found = self._propfind(calendar_href, [(DAV, "resourcetype"), (DAV, "getetag")], depth="1")
        etags = {}
        for href, props in found.items():
            kind = props.get(_tag(DAV, "resourcetype"))
            etag = _text(props, DAV, "getetag")
            if etag is not None and (kind is None or kind.find(_tag(DAV, "collection")) is None):
                etags[href] = etag
        return etags

    def fetch(self, calendar_href: str, hrefs: list[str]) -> dict[str, tuple[str, str]]:
        """The etag and iCalendar text of each named object (calendar-multiget); missing ones are left out."""
        if not hrefs:
            return {}
        root = Element(_tag(CALDAV, "calendar-multiget"))
        props = SubElement(root, _tag(DAV, "prop"))
        SubElement(props, _tag(DAV, "getetag"))
        SubElement(props, _tag(CALDAV, "calendar-data"))
        for href in hrefs:
            SubElement(root, _tag(DAV, "href")).text = href
        response = self._send("REPORT", calendar_href, body=root, depth="1")
        fetched = {}
        for href, found in _multistatus(self, response).items():
            etag, data = _text(found, DAV, "getetag"), _text(found, CALDAV, "calendar-data")
            if etag is not None and data is not None:
                fetched[href] = (etag, data)
        return fetched

    def put(self, href: str, ics_text: str, etag: str | None = None) -> str:
        """Creates (no `etag`: If-None-Match *) or replaces (If-Match `etag`) an object; returns its new etag.

        Raises PreconditionFailed when the object already exists, or has changed since `etag`.
        """
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        headers.update({"If-Match": etag} if etag else {"If-None-Match": "*"})
        response = self._send("PUT", href, content=ics_text.encode(), headers=headers)
        new_etag: str | None = response.headers.get("ETag")
        if new_etag and not new_etag.startswith("W/"):
            return new_etag
        # RFC 4791 §5.3.4: a server that changed the data on the way in may omit the ETag, so ask for it.
        found = self._propfind(href, [(DAV, "getetag")], depth="0")
        etag_now = next((e for e in (_text(p, DAV, "getetag") for p in found.values()) if e), None)
        if etag_now is None:
            raise CalDAVError(f"the server gave no etag for {href}")
        return etag_now

    def delete(self, href: str, etag: str | None = None) -> None:
        """Deletes an object (only if still at `etag`, when given); an object already gone counts as deleted."""
        try:
            self._send("DELETE", href, headers={"If-Match": etag} if etag else {})
        except PreconditionFailed:
            # If-Match on a missing object fails too (RFC 9110 §13.1.1); a retried delete should still succeed.
            if etag is None or self._exists(href):
                raise
        except CalDAVError as exc:
            if exc.status != 404:
                raise

    def _exists(self, href: str) -> bool:
        try:
            self._propfind(href, [(DAV, "getetag")], depth="0")
        except CalDAVError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _propfind(
        self, href: str, props: list[tuple[str, str]], depth: str, discovering: bool = False
    ) -> dict[str, dict[str, Element]]:
        root = Element(_tag(DAV, "propfind"))
        wanted = SubElement(root, _tag(DAV, "prop"))
        for namespace, name in props:
            SubElement(wanted, _tag(namespace, name))
        response = self._send("PROPFIND", href, body=root, depth=depth, discovering=discovering)
        return _multistatus(self, response)

    def _send(
        self,
        method: str,
        href: str,
        *,
        body: Element | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        depth: str | None = None,
        discovering: bool = False,
        sync_report: bool = False,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if body is not None:
            content = tostring(body, encoding="utf-8", xml_declaration=True)
            sent["Content-Type"] = "application/xml; charset=utf-8"
        if depth is not None:
            sent["Depth"] = depth
        try:
            response = self._http.request(
                method,
                urljoin(self.base_url, href),
                content=content,
                headers=sent,
                auth=self._auth,
                # Discovery is where servers redirect (/.well-known/caldav); httpx drops the credentials
                # if a redirect leaves the origin.
                follow_redirects=discovering,
            )
        except httpx.TransportError as exc:
            raise CalDAVError(f"{method} {href} failed: {type(exc).__name__}: {exc}") from exc
        if response.status_code < 400:
            return response
        raise error_for(method, href, response, discovering, sync_report)


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _parse(response: httpx.Response) -> Element:
    # defusedxml refuses entity expansion and external references: the XML comes from a server we don't control.
    try:
        root: Element = SafeElementTree.fromstring(response.content)
    except SafeElementTree.ParseError as exc:
        excerpt = response.text[:EXCERPT_CHARS]
        raise CalDAVError("the server sent unreadable XML", response.status_code, excerpt) from exc
    return root


def _multistatus(client: CalDAVClient, response: httpx.Response) -> dict[str, dict[str, Element]]:
    """href -> {property tag: element} for the properties each response found (propstat 200 only)."""
    found = {}
    for node in _parse(response).findall(_tag(DAV, "response")):
        href = _normalise(client, str(response.url), node.findtext(_tag(DAV, "href")) or "")
        found[href] = _ok_props(node)
    return found


def _ok_props(node: Element) -> dict[str, Element]:
    props = {}
    for propstat in node.findall(_tag(DAV, "propstat")):
        if _status(propstat.findtext(_tag(DAV, "status"))) == 200:
            found = propstat.find(_tag(DAV, "prop"))
            for prop in found if found is not None else []:
                props[prop.tag] = prop
    return props


def _normalise(client: CalDAVClient, request_url: str, href: str) -> str:
    """Hrefs on the base URL's origin become absolute paths; others (iCloud's per-user hosts) stay full URLs."""
    absolute = urljoin(request_url, href.strip())
    parts, base = urlsplit(absolute), urlsplit(client.base_url)
    if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return parts.path
    return absolute


def _status(line: str | None) -> int | None:
    """The code in a `HTTP/1.1 404 Not Found` status line."""
    pieces = (line or "").split()
    return int(pieces[1]) if len(pieces) > 1 and pieces[1].isdigit() else None


def _text(props: dict[str, Element], namespace: str, name: str) -> str | None:
    element = props.get(_tag(namespace, name))
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _child_href(element: Element | None) -> str | None:
    if element is None:
        return None
    return (element.findtext(_tag(DAV, "href")) or "").strip() or None


def _holds_events(components: Element | None) -> bool:
    # RFC 4791 §5.2.3: without the property the calendar accepts every component type.
    if components is None:
        return True
    return any(c.get("name", "").upper() == "VEVENT" for c in components.findall(_tag(CALDAV, "comp")))


def _read_only(privileges: Element | None) -> bool:
    # Servers that don't report privileges are assumed writable; a failed write will say otherwise.
    if privileges is None:
        return False
    held = {p.tag.rsplit("}", 1)[-1] for priv in privileges.findall(_tag(DAV, "privilege")) for p in priv}
    return not held & WRITE_PRIVILEGES
