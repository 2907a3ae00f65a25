"""Element tokens for Cronofy's UI Elements: issued to an application for some of its accounts, some
permissions and one browser origin; signed and stateless, and checked again on every use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from horae.domain import scopes
from horae.errors import AuthenticationFailed, InvalidRequest, PermissionDenied, Problems
from horae.ports import Clock, UnitOfWorkFactory
from horae.services.oauth import AccessContext
from horae.services.signed_state import SignedState

PERMISSIONS = ("agenda", "account_management", "availability", "managed_availability")
VERSION = "1"
LIFETIME = timedelta(seconds=64800)  # what Cronofy's documented response says: 18 hours
# Past its end a token is still read (so that its origin is known and the browser is told 401, not a CORS
# failure), but never accepted.
READABLE_FOR = LIFETIME + timedelta(days=7)
MAX_SUBS = 100
MAX_ORIGIN = 255
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class IssuedElementToken:
    token: str
    permissions: tuple[str, ...]
    origin: str
    expires_in: int


@dataclass(frozen=True)
class ElementToken:
    """What a genuine element token says: whose, for which accounts, allowed what, used from where, until when."""

    application_id: str
    subs: tuple[str, ...]
    permissions: frozenset[str]
    origin: str
    expires_at: datetime

    def require(self, allowed: frozenset[str]) -> None:
        """PermissionDenied unless the token holds one of the permissions that allow this call."""
        if not self.permissions & allowed:
            raise PermissionDenied(f"the element token needs one of the permissions {', '.join(sorted(allowed))}")


def normalize_origin(value: str) -> str | None:
    """The origin in the form browsers send it (`scheme://host[:port]`, lower case, no default port), or
    None when `value` is not an origin (a path, query, fragment or credentials make it a URL)."""
    if len(value) > MAX_ORIGIN or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or value.endswith(("?", "#")):
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else "")


class ElementTokenService:
    """Issues element tokens with the API key, and reads them back for the API's element-token auth."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, key: bytes) -> None:
        self._uow = uow
        self._clock = clock
        self._signer = SignedState(key, clock, READABLE_FOR)

    def issue(
        self, application_id: str, version: str, permissions: list[str], subs: list[str], origin: str
    ) -> IssuedElementToken:
        """A token for these accounts of the application (each must have authorized it), or a 422."""
        problems = Problems()
        if version != VERSION:
            problems.add("version", "errors.invalid", f'version must be "{VERSION}"')
        unknown = [p for p in permissions if p not in PERMISSIONS]
        if not permissions:
            problems.add("permissions", "errors.required", "permissions must hold at least one permission")
        elif unknown:
            problems.add("permissions", "errors.invalid", f"unknown permissions {', '.join(unknown[:5])}")
        if len(set(subs)) > MAX_SUBS:
            problems.add("subs", "errors.too_many", f"at most {MAX_SUBS} subs")
        normal = normalize_origin(origin)
        if normal is None:
            problems.add("origin", "errors.invalid", "origin must be an origin such as https://example.com (no path)")
        problems.raise_any()
        wanted = list(dict.fromkeys(subs))
        if wanted:
            with self._uow() as uow:
                granted = {g.account_id for g in uow.grants.active_for_accounts(wanted, application_id)}
            missing = [sub for sub in wanted if sub not in granted]
            if missing:
                raise InvalidRequest.single(
                    "subs", "errors.unknown_sub", f"not accounts of this application: {', '.join(missing[:5])}"
                )
        assert normal is not None
        chosen = tuple(p for p in PERMISSIONS if p in permissions)
        until = self._clock.now() + LIFETIME
        token = self._signer.sign(
            {"k": "et", "a": application_id, "s": wanted, "p": list(chosen), "o": normal, "u": until.timestamp()}
        )
        return IssuedElementToken(token, chosen, normal, int(LIFETIME.total_seconds()))

    def read(self, token: str) -> ElementToken | None:
        """The token's contents if it is genuine, expired or not (None for anything forged or malformed)."""
        data = self._signer.read(token) if token else None
        if data is None or data.get("k") != "et":
            return None
        try:
            return ElementToken(
                str(data["a"]),
                tuple(str(s) for s in data["s"]),
                frozenset(str(p) for p in data["p"]),
                str(data["o"]),
                datetime.fromtimestamp(float(data["u"]), UTC),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def authenticate(self, element: ElementToken | None) -> ElementToken:
        """The token, if it is genuine, unexpired and its application still exists; else AuthenticationFailed."""
        if element is None or element.expires_at <= self._clock.now():
            raise AuthenticationFailed("element token not recognised or expired")
        with self._uow() as uow:
            if uow.applications.get(element.application_id) is None:
                raise AuthenticationFailed("element token not recognised or expired")
        return element

    def account_access(self, element: ElementToken) -> AccessContext:
        """Acting for the token's one account, with what that account granted the application; 403 when the
        token names no single account, 401 once the account has withdrawn the application's access."""
        if len(element.subs) != 1:
            raise PermissionDenied("this call needs an element token for exactly one sub")
        with self._uow() as uow:
            grants = uow.grants.active_for(element.subs[0], element.application_id)
        if not grants:
            raise AuthenticationFailed("the account no longer authorizes this application")
        grant = max(grants, key=lambda g: g.created_at)
        return AccessContext(
            grant.account_id, grant.application_id, grant.id, scopes.effective(grant.scope.split()), grant.scope
        )
