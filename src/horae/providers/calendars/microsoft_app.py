"""Enterprise Connect for Microsoft 365: an administrator's Entra ID application (application permission
Calendars.ReadWrite, admin consent) linked with its client secret, and reaching each person's calendars as
`/users/{email}` with app-only tokens from the client-credentials grant."""

from __future__ import annotations

import re

import httpx

from horae.errors import InvalidRequest, UnknownUser
from horae.ports import Connection, Linked
from horae.providers.calendars.microsoft_client import GraphClient, TokenRefused, error_for, me

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# A tenant's domain name (contoso.onmicrosoft.com, example.com): labels of letters, digits and inner hyphens.
TENANT_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")
# What Graph answers (404) for an address the tenant cannot serve calendars for.
NO_SUCH_PERSON = frozenset({"ErrorInvalidUser", "MailboxNotEnabledForRESTAPI", "ResourceNotFound"})
PERMISSION_NEEDED = (
    "the application cannot read calendars: give it the application permission Calendars.ReadWrite "
    "(Microsoft Graph) and grant admin consent for the tenant"
)
APP_SECRETS = ("client_secret", "access_token", "expires_at")


def link_admin(graph: GraphClient, form: dict[str, str]) -> Linked:
    """Check an administrator's application: it gets a token in its tenant and can list the calendars of
    `admin_email`. Each problem is reported on the form field that caused it."""
    tenant_id, client_id, admin_email = (
        form.get(name, "").strip() for name in ("tenant_id", "client_id", "admin_email")
    )
    client_secret = form.get("client_secret", "").strip()
    if not (GUID.match(tenant_id) or TENANT_DOMAIN.match(tenant_id)):
        raise _invalid("tenant_id", "give the Directory (tenant) ID, a GUID, or the tenant's domain name")
    if not GUID.match(client_id):
        raise _invalid("client_id", "give the Application (client) ID, a GUID")
    if not client_secret:
        raise _invalid("client_secret", "give a client secret's value (not its ID)")
    if not EMAIL.match(admin_email):
        raise _invalid("admin_email", "give the email address of a person with a mailbox in this tenant")
    try:
        secrets = {"client_secret": client_secret} | graph.app_token(tenant_id, client_id, client_secret)
    except TokenRefused as exc:
        raise _refusal(exc, tenant_id) from exc
    settings = {"tenant_id": tenant_id, "client_id": client_id, "app_only": "true"}
    conn = Connection("", {**settings, "user": admin_email}, secrets)
    url = f"{me(conn)}/calendars"
    response = graph.call(conn, "GET", url, params={"$top": "1"}, expect=(403, 404))
    if response.status_code == 404:
        raise _invalid("admin_email", f"the tenant has no mailbox for {admin_email}")
    if response.status_code == 403:
        raise _invalid("client_id", PERMISSION_NEEDED)
    kept = {name: conn.secrets[name] for name in APP_SECRETS}  # a token renewed meanwhile included
    domain = admin_email.rpartition("@")[2].lower()
    return Linked(domain or tenant_id, settings, kept, "exchange", "office365")


def delegate(graph: GraphClient, admin: Connection, email: str) -> Connection:
    """The connection of one person of the tenant, reached through the administrator's application; their
    calendars are listed once to prove the tenant has them."""
    if not EMAIL.match(email):
        raise UnknownUser(f"{email!r} is not an email address Microsoft 365 could have")
    person = Connection(
        admin.profile_id,
        {**admin.settings, "user": email},
        {name: admin.secrets.get(name, "") for name in APP_SECRETS},
    )
    url = f"{me(person)}/calendars"
    response = graph.call(person, "GET", url, params={"$top": "1"}, expect=(404,))
    # The token is the application's, not the person's: the next delegation can use it too.
    admin.secrets.update({name: person.secrets[name] for name in ("access_token", "expires_at")})
    if response.status_code == 404:
        if _error_code(response) in NO_SUCH_PERSON:
            raise UnknownUser(f"the Microsoft 365 tenant has no mailbox for {email}")
        raise error_for("GET", url, response)
    return person


def _refusal(exc: TokenRefused, tenant_id: str) -> InvalidRequest:
    """The form field a token refusal points at (AADSTS codes: learn.microsoft.com/entra/identity-platform/
    reference-error-codes)."""
    if exc.error == "invalid_client":  # 7000215 a wrong secret, 7000222 an expired one
        return _invalid("client_secret", "Microsoft refused this client secret: give the value of a current one")
    if 90002 in exc.codes or 900023 in exc.codes:  # no such tenant / not a tenant identifier
        return _invalid("tenant_id", f"Microsoft has no tenant {tenant_id!r}")
    if 700016 in exc.codes or exc.error == "unauthorized_client":  # no such application in this tenant
        return _invalid("client_id", f"the tenant {tenant_id!r} has no application with this ID")
    return _invalid("client_id", f"Microsoft refused this application: {exc.message}")


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest.single(field, "errors.invalid", message)


def _error_code(response: httpx.Response) -> str:
    """Graph's error code (`{"error": {"code": ...}}`), or "" when the answer has none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    found = body.get("error") if isinstance(body, dict) else None
    return str(found.get("code", "")) if isinstance(found, dict) else ""
