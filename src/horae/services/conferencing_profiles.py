"""Conferencing profiles: a person connects Zoom or Microsoft Teams through the provider's OAuth consent,
from a link an application asked for (`POST /v1/conferencing_service_authorizations`) or from their
dashboard; one profile is the account's default; a refused grant disconnects it and says so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from horae.domain import ids
from horae.domain.conferencing import WIRE_NAMES, ConferencingProfile
from horae.errors import InvalidRequest, NotFound, ProviderError
from horae.ports import ChangeNotifier, Clock, Connection, OAuthLinker, UnitOfWork, UnitOfWorkFactory
from horae.services.credentials import Credentials
from horae.services.signed_state import SignedState

LINK_LIFETIME = timedelta(hours=1)  # the link an application hands the person
CONSENT_LIFETIME = timedelta(minutes=15)  # the round trip through the provider's consent
DISCONNECTED = "conferencing_profile_disconnected"


@dataclass(frozen=True)
class Invitation:
    """What a conferencing-services link allows: connect a service to this account, then go back."""

    account_id: str
    redirect_uri: str
    provider_key: str  # "" lets the person choose


class ConferencingProfiles:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        providers: Callable[[str], object],
        configured: tuple[str, ...],
        credentials: Credentials,
        notifier: ChangeNotifier,
        state_key: bytes,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._providers = providers
        self.configured = configured  # the services with an OAuth client on this server
        self._credentials = credentials
        self._notifier = notifier
        self._links = SignedState(state_key + b"/link", clock, LINK_LIFETIME)
        self._consents = SignedState(state_key + b"/consent", clock, CONSENT_LIFETIME)

    # --- the application's link ---------------------------------------------------------------------------

    def invitation_token(self, account_id: str, redirect_uri: str, provider_name: str | None) -> str:
        """The token of a link where the account's person connects a conferencing service."""
        if not redirect_uri.startswith(("https://", "http://")):
            raise InvalidRequest.single("redirect_uri", "errors.invalid", "redirect_uri must be an http(s) URL")
        key = ""
        if provider_name:
            key = next((k for k, wire in WIRE_NAMES.items() if wire == provider_name), "")
            if key not in self.configured:
                offered = ", ".join(WIRE_NAMES[k] for k in self.configured) or "none on this server"
                raise InvalidRequest.single(
                    "provider_name", "errors.invalid", f"provider_name must be one of: {offered}"
                )
        return self._links.sign({"acc": account_id, "uri": redirect_uri, "key": key})

    def invitation(self, token: str) -> Invitation:
        data = self._links.read(token)
        if data is None:
            raise NotFound("this link has expired or is not valid; ask the application for a new one")
        return Invitation(str(data["acc"]), str(data["uri"]), str(data.get("key") or ""))

    # --- the provider's consent -------------------------------------------------------------------------

    def consent_url(self, account_id: str, provider_key: str, callback: str, back_to: str, profile_id: str = "") -> str:
        """Where the person consents; the state names the account, the service and where to go afterwards."""
        linker = self._linker(provider_key)
        state = self._consents.sign({"acc": account_id, "key": provider_key, "back": back_to, "pro": profile_id})
        return linker.authorization_url(callback, state)

    def complete(self, state: str, code: str, callback: str) -> tuple[ConferencingProfile, str]:
        """The provider sent the person back: keep the profile (a relink updates the same one); returns it and
        where the person goes next."""
        data = self._consents.read(state)
        if data is None:
            raise InvalidRequest.single("state", "errors.invalid_state", "the link expired or was altered; start again")
        key = str(data["key"])
        try:
            linked = self._linker(key).complete(code, callback)
        except ProviderError as exc:
            raise InvalidRequest.single("code", "errors.provider_refused", exc.message) from exc
        with self._uow() as uow:
            mine = uow.conferencing_profiles.for_account(str(data["acc"]))
            wanted = str(data.get("pro") or "")
            profile = next((p for p in mine if (p.id == wanted if wanted else
                            (p.provider_key, p.name) == (key, linked.profile_name))), None)  # fmt: skip
            if profile is None:
                first = not any(p.connected for p in mine)  # the first one becomes the default
                profile = ConferencingProfile(
                    ids.new_id("pro"), str(data["acc"]), key, linked.profile_name, "active", self._clock.now(), first
                )
                uow.conferencing_profiles.add(profile)
            profile.status = "active"
            profile.connection = dict(linked.settings)
            profile.sealed_credentials = self._credentials.seal(dict(linked.secrets))
            uow.commit()
            return profile, str(data["back"])

    def _linker(self, provider_key: str) -> OAuthLinker:
        linker = self._providers(provider_key) if provider_key in self.configured else None
        if not isinstance(linker, OAuthLinker):
            raise NotFound(f"{provider_key} conferencing is not configured on this server")
        return linker

    # --- the person's choices ----------------------------------------------------------------------------

    def for_account(self, account_id: str) -> list[ConferencingProfile]:
        with self._uow() as uow:
            return uow.conferencing_profiles.for_account(account_id)

    def make_default(self, account_id: str, profile_id: str) -> None:
        with self._uow() as uow:
            mine = uow.conferencing_profiles.for_account(account_id)
            if not any(p.id == profile_id for p in mine):
                raise NotFound(f"no conferencing profile {profile_id} in your account")
            for profile in mine:
                profile.is_default = profile.id == profile_id
            uow.commit()

    # --- used while provisioning --------------------------------------------------------------------------

    def connection(self, profile: ConferencingProfile) -> Connection:
        return self._credentials.open(profile.id, profile.connection or {}, profile.sealed_credentials or "")

    def keep(self, uow: UnitOfWork, profile_id: str, conn: Connection) -> None:
        """Seal secrets a provider renewed during a call."""
        stored = uow.conferencing_profiles.get(profile_id)
        if stored is not None:
            stored.sealed_credentials = self._credentials.seal(dict(conn.secrets))

    def disconnect(self, uow: UnitOfWork, profile_id: str) -> None:
        """The service refused the grant: the profile needs relinking, and applications hear so once."""
        stored = uow.conferencing_profiles.get(profile_id)
        if stored is not None and stored.connected:
            stored.status = "disconnected"
            self._notifier.profile_notice(uow, stored.account_id, DISCONNECTED)
