"""A unit's applications on the dashboard: create them, edit redirect URIs, rotate and revoke secrets, and see
connected accounts and push deliveries, each allowed by the asker's role in the application's unit.

Secret values are returned only by `create` and `rotate_secret`, once; views carry secret ids and dates.
Someone outside the unit gets NotFound for its applications, exactly as for an application that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from horae.domain.model import Account, Application
from horae.domain.organizations import Action, OrganizationalUnit
from horae.domain.push import Delivery, DeliveryAttempt
from horae.errors import NotFound
from horae.ports import UnitOfWork, UnitOfWorkFactory
from horae.services.applications import ApplicationService, NewCredentials, SecretInfo
from horae.services.organizations import Actor, authorize, may

ACCOUNTS_SHOWN = 200
DELIVERIES_SHOWN = 50


@dataclass(frozen=True)
class ApplicationView:
    """One application as a member sees it; `accounts` and `deliveries` are None when the role may not see them."""

    application: Application
    unit: OrganizationalUnit
    may: frozenset[Action]
    secrets: list[SecretInfo]
    accounts: list[Account] | None
    deliveries: list[tuple[Delivery, list[DeliveryAttempt]]] | None


class UnitApplicationService:
    def __init__(self, uow: UnitOfWorkFactory, applications: ApplicationService) -> None:
        self._uow = uow
        self._apps = applications

    def unit_for_new(self, actor: Actor, unit_id: str) -> OrganizationalUnit:
        """The unit an application is about to be created in, if the actor may create one there."""
        with self._uow() as uow:
            authorize(uow, unit_id, actor, Action.CREATE_APP)
            unit = uow.units.get(unit_id)
        assert unit is not None
        return unit

    def create(self, actor: Actor, unit_id: str, name: str, redirect_uris: list[str]) -> NewCredentials:
        with self._uow() as uow:
            authorize(uow, unit_id, actor, Action.CREATE_APP)
        return self._apps.create(name, redirect_uris, unit_id=unit_id, created_by=actor.person_id)

    def view(self, actor: Actor, application_id: str) -> ApplicationView:
        with self._uow() as uow:
            app, role = _checked(uow, actor, application_id, Action.VIEW_APP)
            allows = may(role)
            unit = uow.units.get(str(app.unit_id))
            assert unit is not None
            accounts = (
                uow.app_activity.connected_accounts(app.id, ACCOUNTS_SHOWN) if Action.VIEW_ACCOUNTS in allows else None
            )
            deliveries = None
            if Action.VIEW_DELIVERY_LOGS in allows:
                recent = uow.app_activity.recent_deliveries(app.id, DELIVERIES_SHOWN)
                attempts = uow.deliveries.attempts([d.id for d in recent]) if recent else []
                deliveries = [(d, [a for a in attempts if a.delivery_id == d.id]) for d in recent]
        return ApplicationView(app, unit, allows, self._apps.secrets(app.id), accounts, deliveries)

    def set_redirect_uris(self, actor: Actor, application_id: str, redirect_uris: list[str]) -> None:
        with self._uow() as uow:
            _checked(uow, actor, application_id, Action.EDIT_REDIRECT_URIS)
        self._apps.set_redirect_uris(application_id, redirect_uris)

    def rotate_secret(self, actor: Actor, application_id: str) -> NewCredentials:
        """A new secret, shown once; the older ones keep working (and signing callbacks) until revoked."""
        with self._uow() as uow:
            app, _ = _checked(uow, actor, application_id, Action.ROTATE_SECRET)
            _checked(uow, actor, application_id, Action.VIEW_SECRET)
        return self._apps.rotate_secret(app.client_id, None)

    def revoke_secret(self, actor: Actor, application_id: str, secret_id: str) -> None:
        with self._uow() as uow:
            _checked(uow, actor, application_id, Action.REVOKE_SECRET)
        self._apps.revoke_secret(application_id, secret_id)


def _checked(uow: UnitOfWork, actor: Actor, application_id: str, action: Action) -> tuple[Application, str | None]:
    """The application and the actor's role in its unit, if they may do `action`; NotFound for outsiders."""
    app = uow.applications.get(application_id)
    if app is None or app.unit_id is None:
        raise NotFound(f"no application {application_id}")
    try:
        membership = authorize(uow, app.unit_id, actor, action)
    except NotFound:
        raise NotFound(f"no application {application_id}") from None
    return app, membership.role if membership else None
