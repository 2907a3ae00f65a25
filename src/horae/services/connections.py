"""Connecting calendar services to an account: CalDAV and ICS feeds by form, Google and Microsoft by their
own OAuth consent; relinking a disconnected profile with new credentials. Every link starts a sync."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from horae.domain import ids
from horae.domain.model import Profile
from horae.errors import InvalidRequest, NotFound, ProviderAuthRejected, ProviderError
from horae.ports import Clock, CredentialLinker, Linked, OAuthLinker, UnitOfWorkFactory
from horae.services.calendars import ProviderLookup
from horae.services.credentials import Credentials
from horae.services.signed_state import SignedState
from horae.services.sync import CalendarSync

FORM_KINDS = ("caldav", "ics")
OAUTH_KINDS = ("google", "microsoft")
STATE_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class OAuthState:
    """Who started an OAuth connection, for which provider, and which profile it relinks (if any)."""

    account_id: str
    provider_key: str
    profile_id: str


class ConnectionService:
    """Links calendar services to accounts and relinks them."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        credentials: Credentials,
        providers: ProviderLookup,
        sync: CalendarSync,
        state_key: bytes,
        oauth_kinds: Sequence[str] = (),
        form_kinds: Sequence[str] = FORM_KINDS,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._credentials = credentials
        self._providers = providers
        self._sync = sync
        self._states = SignedState(state_key, clock, STATE_LIFETIME)
        self.oauth_kinds = tuple(k for k in oauth_kinds if k in OAUTH_KINDS)  # those with a client configured
        # Only these keys may be named by a person: a provider key can be a dotted path, which imports code.
        self.form_kinds = tuple(form_kinds)

    # --- form-linked services (CalDAV, ICS feeds) ---------------------------------------------------------

    def link(self, account_id: str, provider_key: str, form: dict[str, str], profile_id: str = "") -> Profile:
        """Check the answers against the service and keep the connection (a new profile, or the given one
        relinked, or the account's existing profile for the same service and name). Bad answers: 422."""
        if provider_key not in self.form_kinds:
            raise InvalidRequest.single("provider", "errors.unknown_provider", f"cannot connect {provider_key!r}")
        linker = self._providers(provider_key)
        if not isinstance(linker, CredentialLinker):
            raise InvalidRequest.single("provider", "errors.unknown_provider", f"cannot connect {provider_key!r}")
        try:
            linked = linker.link(form)
        except ProviderAuthRejected as exc:
            raise InvalidRequest.single("password", "errors.credentials_rejected", exc.message) from exc
        except ProviderError as exc:
            raise InvalidRequest.single("server_url", "errors.unreachable", exc.message) from exc
        return self._keep(account_id, provider_key, linked, profile_id)

    # --- OAuth-linked services (Google, Microsoft) --------------------------------------------------------

    def authorization_url(self, account_id: str, provider_key: str, redirect_uri: str, profile_id: str = "") -> str:
        """Where to send the person to consent; the state names them, so the callback cannot be replayed
        into another account."""
        if provider_key not in self.oauth_kinds:
            raise NotFound(f"{provider_key} is not configured on this server")
        linker = self._providers(provider_key)
        if not isinstance(linker, OAuthLinker):
            raise NotFound(f"{provider_key} cannot be connected through OAuth")
        return linker.authorization_url(redirect_uri, self._sign(OAuthState(account_id, provider_key, profile_id)))

    def complete_oauth(self, account_id: str, state: str, code: str, redirect_uri: str) -> Profile:
        found = self.read_state(state)
        if found is None or found.account_id != account_id:
            raise InvalidRequest.single(
                "state", "errors.invalid_state", "the link expired or is not yours; start again"
            )
        linker = self._providers(found.provider_key)
        if not isinstance(linker, OAuthLinker):
            raise NotFound(f"{found.provider_key} cannot be connected through OAuth")
        try:
            linked = linker.complete(code, redirect_uri)
        except ProviderError as exc:
            raise InvalidRequest.single("code", "errors.provider_refused", exc.message) from exc
        return self._keep(account_id, found.provider_key, linked, found.profile_id)

    def read_state(self, state: str) -> OAuthState | None:
        data = self._states.read(state)
        if data is None or "acc" not in data or "key" not in data:
            return None
        return OAuthState(str(data["acc"]), str(data["key"]), str(data.get("pro", "")))

    def _sign(self, state: OAuthState) -> str:
        return self._states.sign({"acc": state.account_id, "key": state.provider_key, "pro": state.profile_id})

    # --- keeping a link -----------------------------------------------------------------------------------

    def _keep(self, account_id: str, provider_key: str, linked: Linked, profile_id: str) -> Profile:
        provider = self._providers(provider_key)
        with self._uow() as uow:
            mine = [p for p in uow.profiles.for_account(account_id) if p.provider_key == provider_key]
            if profile_id:
                profile = next((p for p in mine if p.id == profile_id), None)
                if profile is None:
                    raise NotFound(f"no profile {profile_id}")
            else:
                profile = next((p for p in mine if p.name == linked.profile_name and p.revoked_at is None), None)
            if profile is None:
                profile = Profile(
                    ids.new_id("pro"),
                    account_id,
                    linked.provider_name or provider.provider_name,
                    linked.provider_service or provider.provider_service,
                    provider_key,
                    linked.profile_name,
                    "pending",
                    self._clock.now(),
                )
                uow.profiles.add(profile)
            profile.connection = dict(linked.settings)
            profile.sealed_credentials = self._credentials.seal(linked.secrets)
            self._sync.relinked(uow, profile)
            uow.commit()
            return profile
