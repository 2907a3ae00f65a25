"""Microsoft Graph calendars (Outlook.com, Microsoft 365): OAuth linking, calendar lists, calendarView delta sync
with series regrouped from their occurrences, and writes keyed by the event's uid."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from horae.domain import recurrence
from horae.domain.events import Event
from horae.domain.recurrence_rules import BadRecurrence
from horae.domain.times import EventTime
from horae.errors import ProviderError, RemoteConflict, SyncCursorExpired
from horae.ports import Connection, Linked, ProviderCalendar, ProviderChanges, RemoteItem, WriteResult
from horae.providers.calendars import microsoft_app
from horae.providers.calendars.microsoft_client import (
    CONFLICTS,
    DEFAULT_AUTH_URL,
    PREFER,
    SCOPE,
    GraphClient,
    Item,
    error_for,
    iso,
    json_of,
    me,
    q,
    secrets_of,
)
from horae.providers.calendars.microsoft_events import (
    DIGEST_CHARS,
    change_key,
    digest,
    exception_payload,
    if_match,
    original_key,
    payload_of,
    read_series,
    read_single,
    same_content,
    series_etag,
    transaction_id,
)
from horae.providers.calendars.microsoft_recurrence import Unsupported

CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # the tenant of every personal Microsoft account
PERSONAL_DOMAIN = re.compile(r"^(outlook|hotmail|live|msn)\.(com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$")


class MicrosoftCalendarProvider:
    """Outlook calendars through Microsoft Graph v1.0 (CalendarProvider, OAuthLinker and DelegatingProvider)."""

    key = "microsoft"
    provider_name = "exchange"  # personal accounts link as live_connect / outlook_com (see complete)
    provider_service = "office365"
    writable = True
    remote = True

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        options = dict(options or {})
        self.client_id = options.get("client_id", "")
        self.auth_url = options.get("auth_url") or DEFAULT_AUTH_URL
        self.graph = GraphClient(options)
        self.page_size = 100  # rows per page Horae asks for

    def close(self) -> None:
        self.graph.close()

    # --- linking --------------------------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        query = {"client_id": self.client_id, "response_type": "code", "redirect_uri": redirect_uri}
        query |= {"response_mode": "query", "scope": SCOPE, "state": state}
        return f"{self.auth_url}{'&' if '?' in self.auth_url else '?'}{urlencode(query)}"

    def complete(self, code: str, redirect_uri: str) -> Linked:
        tokens = self.graph.token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        conn = Connection("", {}, secrets_of(tokens))
        user = self.graph.json(conn, "GET", me(conn))
        email = str(user.get("mail") or user.get("userPrincipalName") or "")
        if not email:
            raise ProviderError("Microsoft did not say which account this is")
        if _personal(email, tokens.get("id_token")):
            return Linked(email, {"email": email}, conn.secrets, "live_connect", "outlook_com")
        return Linked(email, {"email": email}, conn.secrets, self.provider_name, self.provider_service)

    # --- Enterprise Connect (an administrator's application, app-only tokens) ---------------------------------

    def link_admin(self, form: dict[str, str]) -> Linked:
        return microsoft_app.link_admin(self.graph, form)

    def delegate(self, admin: Connection, email: str) -> Connection:
        return microsoft_app.delegate(self.graph, admin, email)

    # --- calendars ------------------------------------------------------------------------------------------

    def calendars(self, conn: Connection) -> list[ProviderCalendar]:
        rows = self.graph.pages(conn, f"{me(conn)}/calendars", {"$top": str(self.page_size)})
        return [_calendar(row) for row in rows]

    def create_calendar(self, conn: Connection, name: str, color: str | None) -> ProviderCalendar:
        # Graph only takes named colours (hexColor is read-only), so the service picks one.
        response = self.graph.call(conn, "POST", f"{me(conn)}/calendars", body={"name": name}, expect=(409,))
        if response.status_code == 409:  # made by an earlier attempt of this same call
            for found in self.calendars(conn):
                if found.name.casefold() == name.casefold():
                    return found
            raise ProviderError(f"Microsoft says a calendar named {name!r} exists, but does not list it")
        return _calendar(json_of(response))

    # --- reading --------------------------------------------------------------------------------------------

    def changes(
        self, conn: Connection, calendar_remote_id: str, cursor: str | None, window: tuple[datetime, datetime]
    ) -> ProviderChanges:
        """One calendarView delta round. Graph lists a series as its occurrences and exceptions, never its
        master, and a deleted object only by id; so the cursor keeps, besides the deltaLink, a fingerprint of
        each series' instance ids, which tells which series a removed id belonged to.

        A series is read from its master (GET) and all its instances in the window: in a full round those the
        round listed, in an incremental round a fresh `/instances` listing of each series that changed. An
        instance the pattern has well inside the window that Graph does not list was cancelled (Graph v1.0
        names cancelled occurrences nowhere else). One moved out of the window reads as cancelled too, which
        is the same thing to a reader of the window."""
        if cursor is None:
            url = f"{me(conn)}/calendars/{q(calendar_remote_id)}/calendarView/delta"
            params: dict[str, str] | None = {"startDateTime": iso(window[0]), "endDateTime": iso(window[1])}
            known: dict[str, set[str]] = {}
        else:
            url, known = self._read_cursor(cursor)
            params = None
        listed, link = self._delta_round(conn, url, params, incremental=cursor is not None)
        owner = {mark: master for master, marks in known.items() for mark in marks}
        singles: dict[str, Item] = {}
        series: dict[str, list[Item]] = {}
        removed: list[str] = []
        for item in listed:
            remote_id = str(item.get("id", ""))
            master_id = item.get("seriesMasterId") or (remote_id if item.get("type") == "seriesMaster" else None)
            if "@removed" in item:
                if digest(remote_id) in owner:
                    series.setdefault(owner[digest(remote_id)], [])
                else:
                    removed.append(remote_id)
            elif master_id:
                series.setdefault(str(master_id), []).append(item)
            elif item.get("isCancelled"):
                removed.append(remote_id)
            else:
                singles[remote_id] = item
        items: list[RemoteItem] = []
        for master_id, seen in series.items():
            master = self.graph.event(conn, master_id)
            if master is None or master.get("isCancelled"):
                removed.append(master_id)
                known.pop(master_id, None)
                continue
            if master.get("type") != "seriesMaster":  # no longer a series: an event of its own
                known.pop(master_id, None)
                singles.setdefault(master_id, master)
                continue
            instances = seen if cursor is None else self._instances(conn, master_id, window)
            exceptions = [i for i in instances if i.get("type") == "exception"]
            items.append(RemoteItem(master_id, series_etag(master, exceptions), read_series(master, instances, window)))
            known[master_id] = {digest(str(i.get("id", ""))) for i in instances}
        items += [RemoteItem(rid, change_key(item), read_single(item)) for rid, item in singles.items()]
        kept = {item.remote_id for item in items}
        gone = [rid for rid in dict.fromkeys(removed) if rid not in kept]
        return ProviderChanges(items, gone, _write_cursor(link, known), complete=cursor is None)

    def _delta_round(
        self, conn: Connection, url: str, params: dict[str, str] | None, incremental: bool
    ) -> tuple[list[Item], str]:
        listed: list[Item] = []
        prefer = {"Prefer": f"{PREFER}, odata.maxpagesize={self.page_size}"}
        while True:
            response = self.graph.call(conn, "GET", url, params=params, headers=prefer, expect=(400, 410))
            if response.status_code in (400, 410):
                if incremental:  # syncStateNotFound, resyncRequired, or a token it cannot read
                    raise SyncCursorExpired("Microsoft no longer accepts this calendar's delta link")
                raise error_for("GET", url, response)
            body = json_of(response)
            listed.extend(row for row in body.get("value") or [] if isinstance(row, Mapping))
            if body.get("@odata.nextLink"):
                url, params = str(body["@odata.nextLink"]), None
            elif body.get("@odata.deltaLink"):
                return listed, str(body["@odata.deltaLink"])
            else:
                raise ProviderError("Microsoft ended a delta round without a delta link")

    def _read_cursor(self, cursor: str) -> tuple[str, dict[str, set[str]]]:
        try:
            data = json.loads(cursor)
            link, marks = str(data["link"]), data["series"]
            known = {str(master): _split(text) for master, text in marks.items()}
        except (ValueError, TypeError, KeyError, AttributeError):
            raise SyncCursorExpired("the stored cursor is not a Microsoft delta cursor") from None
        if not self.graph.ours(link):
            raise SyncCursorExpired("the stored delta link points at another server")
        return link, known

    def _instances(self, conn: Connection, master_id: str, span: tuple[datetime, datetime]) -> list[Item]:
        params = {"startDateTime": iso(span[0]), "endDateTime": iso(span[1]), "$top": str(self.page_size)}
        return list(self.graph.pages(conn, f"{me(conn)}/events/{q(master_id)}/instances", params))

    # --- writing --------------------------------------------------------------------------------------------

    def write_event(
        self, conn: Connection, calendar_remote_id: str, event: Event, remote_id: str | None, etag: str | None
    ) -> WriteResult:
        try:
            payload = payload_of(event)
        except (Unsupported, BadRecurrence) as exc:
            raise ProviderError(f"Outlook cannot hold this event's recurrence: {exc}") from None
        item = self._replace(conn, remote_id, payload, etag) if remote_id else None
        if item is None:
            item = self._create(conn, calendar_remote_id, payload, event.event_uid)
        exceptions: list[Item] = []
        if payload["recurrence"] and recurrence.exceptions(event):
            exceptions = self._write_exceptions(conn, event, str(item["id"]))
            item = self.graph.event(conn, str(item["id"])) or item  # an exception may have moved the master's key on
        return WriteResult(str(item["id"]), series_etag(item, exceptions))

    def _create(self, conn: Connection, calendar_remote_id: str, payload: dict[str, Any], uid: str) -> Item:
        body = payload | {"transactionId": transaction_id(uid)}
        url = f"{me(conn)}/calendars/{q(calendar_remote_id)}/events"
        created = json_of(self.graph.call(conn, "POST", url, body=body))
        if same_content(payload, created):
            return created
        # A retried create answers the event the first attempt made, as that attempt described it.
        return self._replace(conn, str(created["id"]), payload, change_key(created)) or created

    def _replace(self, conn: Connection, remote_id: str, payload: dict[str, Any], etag: str | None) -> Item | None:
        """PATCH the event; a stale version tag is overwritten (Horae's write wins) after reading the current
        one. None when the event is gone."""
        url = f"{me(conn)}/events/{q(remote_id)}"
        response = self.graph.call(conn, "PATCH", url, body=payload, headers=if_match(etag), expect=(404, *CONFLICTS))
        if response.status_code in CONFLICTS:
            current = self.graph.event(conn, remote_id)
            if current is None:
                return None
            headers = if_match(change_key(current))
            response = self.graph.call(conn, "PATCH", url, body=payload, headers=headers, expect=(404, *CONFLICTS))
            if response.status_code in CONFLICTS:
                raise RemoteConflict("the Outlook event changed again while Horae was writing it")
        return None if response.status_code == 404 else json_of(response)

    def _write_exceptions(self, conn: Connection, event: Event, master_id: str) -> list[Item]:
        """Carry the series' moved and cancelled instances to the occurrences Graph made for the rule."""
        changed = {k: v for k, v in recurrence.exceptions(event).items() if recurrence.occurs(event, k)}
        if not changed:
            return []
        moments = [_moment(recurrence.original_of(key)) for key in changed]
        span = (min(moments) - timedelta(days=2), max(moments) + timedelta(days=2))
        for change in changed.values():  # reach the instances moved far from where they were too
            for edge in ("start", "end"):
                if isinstance(change.get(edge), str):
                    found = _moment(change[edge])
                    span = (min(span[0], found - timedelta(days=2)), max(span[1], found + timedelta(days=2)))
        series = EventTime(event.starts_at, event.start_date, event.start_tzid)
        instances = {original_key(i, series): i for i in self._instances(conn, master_id, span)}
        exceptions = {str(i["id"]): i for i in instances.values() if i.get("type") == "exception"}
        for key, change in sorted(changed.items()):
            instance = instances.get(key)
            if instance is None:  # cancelled already: Graph cannot bring an instance back
                continue
            url = f"{me(conn)}/events/{q(str(instance['id']))}"
            exceptions.pop(str(instance["id"]), None)
            if change.get("deleted"):
                self.graph.call(conn, "DELETE", url, expect=(404,))
                continue
            body = exception_payload(event, change)
            if body is not None and not same_content(body, instance):
                instance = json_of(self.graph.call(conn, "PATCH", url, body=body))
            if instance.get("type") == "exception":
                exceptions[str(instance["id"])] = instance
        return list(exceptions.values())

    def delete_event(self, conn: Connection, calendar_remote_id: str, remote_id: str, etag: str | None) -> None:
        url = f"{me(conn)}/events/{q(remote_id)}"
        response = self.graph.call(conn, "DELETE", url, headers=if_match(etag), expect=(404, *CONFLICTS))
        if response.status_code in CONFLICTS:
            current = self.graph.event(conn, remote_id)
            if current is None:
                return
            headers = if_match(change_key(current))
            response = self.graph.call(conn, "DELETE", url, headers=headers, expect=(404, *CONFLICTS))
            if response.status_code in CONFLICTS:
                raise RemoteConflict("the Outlook event changed again while Horae was deleting it")


def _personal(email: str, id_token: object) -> bool:
    """A personal Microsoft account (Outlook.com) rather than a work or school one: the id token's tenant
    says so; without one, the address's domain."""
    if isinstance(id_token, str) and id_token.count(".") == 2:
        payload = id_token.split(".")[1]
        try:  # read for the tenant only: it came straight from the token endpoint
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            claims = None
        if isinstance(claims, dict) and isinstance(claims.get("tid"), str):
            return bool(claims["tid"] == CONSUMER_TENANT)
    return bool(PERSONAL_DOMAIN.match(email.rpartition("@")[2].lower()))


def _calendar(row: Mapping[str, Any]) -> ProviderCalendar:
    color = row.get("hexColor")
    return ProviderCalendar(
        str(row["id"]),
        str(row.get("name") or "Calendar"),
        readonly=not row.get("canEdit", True),
        primary=bool(row.get("isDefaultCalendar")),
        color=str(color) if color else None,
    )


def _write_cursor(link: str, known: Mapping[str, set[str]]) -> str:
    return json.dumps({"link": link, "series": {m: "".join(sorted(marks)) for m, marks in known.items()}})


def _split(marks: str) -> set[str]:
    return {marks[i : i + DIGEST_CHARS] for i in range(0, len(marks), DIGEST_CHARS)}


def _moment(value: str | datetime | date) -> datetime:
    """An exception's time (Horae's wire text) or an original start (a datetime, or a date as UTC midnight)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), UTC)
