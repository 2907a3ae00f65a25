"""OAuth 2 for Cronofy clients: authorize requests, codes, token grants, revocation, bearer checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from horae.domain import ids, scopes
from horae.domain.model import Account, Application, AuthorizationCode, Grant, Profile, Token
from horae.errors import AuthenticationFailed, InvalidRequest, OAuthError, OAuthRedirect, PermissionDenied
from horae.ports import Clock, UnitOfWork, UnitOfWorkFactory
from horae.services.applications import ApplicationService, redirect_uri_registered

CODE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked `GET /oauth/authorize` request, ready for the person's decision."""

    application_id: str
    application_name: str
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None

    @property
    def scope_text(self) -> str:
        return " ".join(self.scope)


@dataclass(frozen=True)
class TokenGrant:
    """What a successful token request returns."""

    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    account_id: str
    linking_profile: Profile | None


@dataclass(frozen=True)
class AccessContext:
    """Who is calling with an account access token, for which application, allowed to do what."""

    account_id: str
    application_id: str
    grant_id: str
    permissions: frozenset[str]
    scope: str

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"the {permission} scope is required")


class OAuthService:
    """The authorization-code and refresh-token grants as Cronofy serves them."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, applications: ApplicationService, access_ttl: int) -> None:
        self._uow = uow
        self._clock = clock
        self._apps = applications
        self._access_ttl = access_ttl

    @property
    def access_ttl(self) -> int:
        """Seconds an access token lives."""
        return self._access_ttl

    # --- authorize ---------------------------------------------------------------------------

    def check_authorize(
        self, params: Mapping[str, str], parse_scope: Callable[[str], tuple[str, ...]] = scopes.parse
    ) -> AuthorizeRequest:
        """Validate authorize parameters (RFC 6749 §4.1.2.1): client and redirect problems are shown
        to the person (InvalidRequest); every other problem goes back to the client (OAuthRedirect).
        `parse_scope` raises ValueError naming an unknown word (Enterprise Connect has its own words)."""
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        with self._uow() as uow:
            app = uow.applications.by_client_id(client_id) if client_id else None
        if app is None:
            raise InvalidRequest.single("client_id", "errors.unknown_client", "this application is not known")
        if not redirect_uri or not redirect_uri_registered(app, redirect_uri):
            raise InvalidRequest.single(
                "redirect_uri", "errors.unregistered", "the redirect_uri is not registered for this application"
            )
        state = params.get("state")
        if params.get("response_type") != "code":
            raise OAuthRedirect("unsupported_response_type", "response_type must be code", redirect_uri, state)
        try:
            words = parse_scope(params.get("scope", ""))
        except ValueError as exc:
            raise OAuthRedirect("invalid_scope", f"unknown scope {exc}", redirect_uri, state) from exc
        if not words:
            raise OAuthRedirect("invalid_scope", "scope must be specified", redirect_uri, state)
        return AuthorizeRequest(app.id, app.name, app.client_id, redirect_uri, words, state)

    def issue_code(self, request: AuthorizeRequest, account_id: str) -> str:
        """The person agreed: a single-use code for the client (stored only as a digest)."""
        with self._uow() as uow:
            code = self.add_code(uow, request.application_id, account_id, request.redirect_uri, request.scope_text)
            uow.commit()
        return code

    def add_code(self, uow: UnitOfWork, application_id: str, account_id: str, redirect_uri: str, scope: str) -> str:
        """A single-use code in `uow`, exchanged at /oauth/token with exactly this redirect_uri."""
        code = ids.new_authorization_code()
        now = self._clock.now()
        uow.codes.add(
            AuthorizationCode(
                ids.digest(code), application_id, account_id, redirect_uri, scope, now + CODE_LIFETIME, now
            )
        )
        return code

    # --- token endpoint ----------------------------------------------------------------------

    def exchange_code(self, client_id: str, client_secret: str, code: str, redirect_uri: str) -> TokenGrant:
        now = self._clock.now()
        with self._uow() as uow:
            app = self._apps.authenticate_client(uow, client_id, client_secret)
            if not code:
                raise OAuthError("invalid_request", "code must be specified")
            stored = uow.codes.get(ids.digest(code))
            if stored is None or stored.application_id != app.id:
                raise OAuthError("invalid_grant", "the code is unknown or used")
            if stored.used_at is not None:
                # A replayed code may be stolen: withdraw what it issued (RFC 6749 §4.1.2).
                if stored.grant_id:
                    uow.tokens.revoke_grant(stored.grant_id, now)
                    uow.commit()
                raise OAuthError("invalid_grant", "the code is unknown or used")
            if stored.expires_at <= now:
                raise OAuthError("invalid_grant", "the code has expired")
            if redirect_uri != stored.redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri does not match the one used to authorize")
            if not uow.codes.consume(stored.code_digest, now):
                raise OAuthError("invalid_grant", "the code is unknown or used")
            stored = uow.codes.get(stored.code_digest)
            assert stored is not None
            account = uow.accounts.get(stored.account_id)
            assert account is not None
            result = self._grant(uow, app, account, stored.scope, self._access_ttl)
            stored.grant_id = result[1].id
            uow.commit()
            return result[0]

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> TokenGrant:
        now = self._clock.now()
        with self._uow() as uow:
            app = self._apps.authenticate_client(uow, client_id, client_secret)
            if not refresh_token:
                raise OAuthError("invalid_request", "refresh_token must be specified")
            token = uow.tokens.get(ids.digest(refresh_token))
            grant = uow.grants.get(token.grant_id) if token else None
            if token is None or grant is None or token.kind != "refresh" or grant.application_id != app.id:
                raise OAuthError("invalid_grant", "the refresh token is unknown")
            if not token.usable(now) or grant.revoked_at is not None:
                raise OAuthError("invalid_grant", "the refresh token has been revoked")
            access = ids.new_token()
            uow.tokens.add(self._token(access, "access", grant.id, self._access_ttl))
            profile = uow.profiles.get(grant.linking_profile_id) if grant.linking_profile_id else None
            uow.commit()
            # Cronofy keeps the refresh token on refresh; the SDKs store whatever comes back.
            return TokenGrant(access, refresh_token, self._access_ttl, grant.scope, grant.account_id, profile)

    def revoke(self, client_id: str, client_secret: str, token: str, sub: str) -> None:
        """RFC 7009: revoke the grant behind a token (or every grant of `sub` for this client).
        Unknown or already revoked tokens succeed silently."""
        now = self._clock.now()
        with self._uow() as uow:
            app = self._apps.authenticate_client(uow, client_id, client_secret)
            if token:
                stored = uow.tokens.get(ids.digest(token))
                grant = uow.grants.get(stored.grant_id) if stored else None
                if grant is not None and grant.application_id == app.id:
                    uow.tokens.revoke_grant(grant.id, now)
            elif sub:
                for grant in uow.grants.active_for(sub, app.id):
                    uow.tokens.revoke_grant(grant.id, now)
            else:
                raise OAuthError("invalid_request", "token or sub must be specified")
            uow.commit()

    def issue_direct_grant(self, account_id: str, application_id: str, scope: str, access_ttl: int) -> TokenGrant:
        """Tokens without the browser flow, for the operator's own demo or CLI use."""
        with self._uow() as uow:
            app = uow.applications.get(application_id)
            account = uow.accounts.get(account_id)
            if app is None or account is None:
                raise AuthenticationFailed("unknown account or application")
            result, _ = self._grant(uow, app, account, scope, access_ttl)
            uow.commit()
            return result

    # --- bearer tokens -----------------------------------------------------------------------

    def authenticate(self, access_token: str) -> AccessContext:
        """The caller behind an account access token, or AuthenticationFailed."""
        now = self._clock.now()
        with self._uow() as uow:
            token = uow.tokens.get(ids.digest(access_token)) if access_token else None
            grant = uow.grants.get(token.grant_id) if token else None
        if token is None or grant is None or token.kind != "access" or not token.usable(now):
            raise AuthenticationFailed("access token not recognised")
        if grant.revoked_at is not None:
            raise AuthenticationFailed("access token not recognised")
        words = grant.scope.split()
        return AccessContext(grant.account_id, grant.application_id, grant.id, scopes.effective(words), grant.scope)

    # --- helpers -----------------------------------------------------------------------------

    def _grant(
        self, uow: UnitOfWork, app: Application, account: Account, scope: str, access_ttl: int
    ) -> tuple[TokenGrant, Grant]:
        profiles = uow.profiles.for_account(account.id)
        linking = profiles[0] if profiles else None
        grant = Grant(ids.new_id("grt"), account.id, app.id, scope, self._clock.now(), linking.id if linking else None)
        uow.grants.add(grant)
        uow.flush()
        access, refresh = ids.new_token(), ids.new_token()
        uow.tokens.add(self._token(access, "access", grant.id, access_ttl))
        uow.tokens.add(self._token(refresh, "refresh", grant.id, None))
        return TokenGrant(access, refresh, access_ttl, scope, account.id, linking), grant

    def _token(self, plain: str, kind: str, grant_id: str, ttl: int | None) -> Token:
        now = self._clock.now()
        expires = now + timedelta(seconds=ttl) if ttl is not None else None
        return Token(ids.digest(plain), kind, grant_id, now, expires)
