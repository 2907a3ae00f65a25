""" "Your Profile" in the dashboard: the sign-in guard, details and time zone (seen by the API), the email
change, and the calendar services list with disconnect."""

from __future__ import annotations

from fastapi.testclient import TestClient

from horae.container import Container
from horae.domain import ids
from horae.domain.model import Profile
from tests.fakes import FakeClock
from tests.helpers import authorize, csrf_of, make_app

PASSWORD = "correct horse battery"


def sign_up(client: TestClient, email: str = "ada@example.com", next_url: str = "/dashboard/profile") -> str:
    """Signs up through the dashboard's own page; returns the profile page's HTML."""
    page = client.get(f"/login?next={next_url}")
    form = {"email": email, "password": PASSWORD, "name": "Ada", "next": next_url, "csrf_token": csrf_of(page.text)}
    landed = client.post("/signup", data=form)
    assert landed.status_code == 200 and landed.url.path == "/dashboard/profile"
    return landed.text


def test_the_dashboard_needs_a_signed_in_person_and_comes_back_after_sign_in(client: TestClient) -> None:
    guarded = client.get("/dashboard/profile", follow_redirects=False)
    assert guarded.status_code == 303 and guarded.headers["location"] == "/login?next=%2Fdashboard%2Fprofile"
    assert 'name="next" value="/dashboard"' in client.get("/login?next=https://evil.example/").text
    assert 'name="next" value="/dashboard"' in client.get("/login?next=//evil.example/").text
    html = sign_up(client)
    assert "ada@example.com" in html and 'aria-current="page"' in html
    logout = client.post("/logout", data={"csrf_token": csrf_of(html)}, follow_redirects=False)
    assert logout.status_code == 303
    assert client.get("/dashboard/profile", follow_redirects=False).status_code == 303


def test_the_time_zone_set_here_is_the_accounts_zoneinfo(client: TestClient, container: Container) -> None:
    html = sign_up(client)
    saved = client.post("/dashboard/profile/details", data={"name": "Ada L.", "tzid": "Europe/Paris",
                                                             "csrf_token": csrf_of(html)})  # fmt: skip
    assert saved.status_code == 200 and 'id="saved"' in saved.text and 'value="Europe/Paris"' in saved.text
    person = container.accounts.log_in("ada@example.com", PASSWORD)
    token = authorize(container, make_app(container), person.account.id)
    info = client.get("/v1/userinfo", headers=token.auth).json()
    assert info["zoneinfo"] == "Europe/Paris" and info["name"] == "Ada L."

    bad = client.post("/dashboard/profile/details", data={"name": "Ada", "tzid": "Mars/Olympus",
                                                           "csrf_token": csrf_of(html)})  # fmt: skip
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert client.post("/dashboard/profile/details", data={"name": "Ada", "tzid": "UTC"}).status_code == 403
    assert client.get("/v1/userinfo", headers=token.auth).json()["zoneinfo"] == "Europe/Paris"


def test_changing_the_email_needs_the_password_and_a_free_address(client: TestClient, container: Container) -> None:
    container.accounts.sign_up("taken@example.com", PASSWORD, "Someone")
    html = sign_up(client)
    token = csrf_of(html)
    wrong = client.post("/dashboard/profile/email", data={"email": "ada@new.example", "password": "nope-nope",
                                                           "csrf_token": token})  # fmt: skip
    assert wrong.status_code == 422 and "password is not right" in wrong.text
    taken = client.post("/dashboard/profile/email", data={"email": "taken@example.com", "password": PASSWORD,
                                                           "csrf_token": token})  # fmt: skip
    assert taken.status_code == 422 and "already exists" in taken.text
    moved = client.post("/dashboard/profile/email", data={"email": "Ada@New.Example", "password": PASSWORD,
                                                           "csrf_token": token})  # fmt: skip
    assert moved.status_code == 200 and 'value="ada@new.example"' in moved.text
    assert container.accounts.log_in("ada@new.example", PASSWORD).account.email == "ada@new.example"


def test_calendar_services_are_listed_and_can_be_disconnected(
    client: TestClient, container: Container, clock: FakeClock
) -> None:
    html = sign_up(client)
    person = container.accounts.log_in("ada@example.com", PASSWORD)
    other = container.accounts.sign_up("bob@example.com", PASSWORD, "Bob")
    with container.uow() as uow:
        for owner in (person.account.id, other.account.id):
            found = Profile(ids.new_id("pro"), owner, "apple", "icloud", "caldav", "ada@icloud.example", "active",
                            clock.now())  # fmt: skip
            found.connection, found.sealed_credentials = {}, ""
            uow.profiles.add(found)
        uow.commit()
    overview = container.profile_settings.overview(person.person.id)
    built_in, caldav = overview.profiles
    bobs = container.profile_settings.overview(other.person.id).profiles[1]
    page = client.get("/dashboard/profile").text
    assert "Horae (built in)" in page and "ada@icloud.example" in page
    assert page.count("/disconnect") == 1  # only the CalDAV one: the built-in calendars stay

    token = csrf_of(html)
    assert (
        client.post(f"/dashboard/profile/services/{bobs.id}/disconnect", data={"csrf_token": token}).status_code == 404
    )
    kept = client.post(f"/dashboard/profile/services/{built_in.id}/disconnect", data={"csrf_token": token})
    assert kept.status_code == 422
    gone = client.post(f"/dashboard/profile/services/{caldav.id}/disconnect", data={"csrf_token": token})
    assert gone.status_code == 200 and f"/profiles/{caldav.id}/relink" in gone.text
    assert container.profile_settings.overview(person.person.id).profiles[1].status == "disconnected"
    assert container.profile_settings.overview(other.person.id).profiles[1].status == "active"
