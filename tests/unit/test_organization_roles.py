"""The permission table of organizational units, every role against every action, and the last-Owner rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from horae.domain.organizations import (
    Action,
    Invitation,
    Membership,
    Role,
    allowed,
    clean_email,
    clean_name,
    keeps_an_owner,
    parse_role,
)
from horae.errors import InvalidRequest

NOW = datetime(2030, 1, 1, tzinfo=UTC)
A = Action
# Written out in full on purpose: a change to the table must change this test too.
EXPECTED: dict[Action, tuple[bool, bool, bool]] = {
    #                       owner  developer support
    A.VIEW_UNIT: (True, True, True),
    A.RENAME_UNIT: (True, False, False),
    A.INVITE: (True, False, False),
    A.CHANGE_ROLE: (True, False, False),
    A.REMOVE_MEMBER: (True, False, False),
    A.LEAVE: (True, True, True),
    A.CREATE_APP: (True, True, False),
    A.EDIT_REDIRECT_URIS: (True, True, False),
    A.ROTATE_SECRET: (True, True, False),
    A.REVOKE_SECRET: (True, True, False),
    A.VIEW_SECRET: (True, True, False),
    A.VIEW_APP: (True, True, True),
    A.VIEW_ACCOUNTS: (True, True, True),
    A.VIEW_DELIVERY_LOGS: (True, True, True),
}
ROLES = (Role.OWNER, Role.DEVELOPER, Role.SUPPORT)


def test_the_table_names_every_action() -> None:
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("role", ROLES, ids=str)
def test_every_role_against_every_action(role: Role, action: Action) -> None:
    assert allowed(role.value, action) is EXPECTED[action][ROLES.index(role)]


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_an_unknown_role_may_do_nothing(action: Action) -> None:
    assert not allowed("admin", action)
    assert not allowed("", action)


def test_support_never_sees_secrets_and_changes_nothing_but_its_own_membership() -> None:
    support = {a for a in Action if allowed("support", a)}
    assert support == {A.VIEW_UNIT, A.VIEW_APP, A.VIEW_ACCOUNTS, A.VIEW_DELIVERY_LOGS, A.LEAVE}


def _unit(*roles: tuple[str, Role]) -> list[Membership]:
    return [Membership("uni_1", person, role.value, NOW) for person, role in roles]


def test_the_last_owner_cannot_leave_be_removed_or_be_demoted() -> None:
    members = _unit(("ada", Role.OWNER), ("bob", Role.DEVELOPER))
    for new_role in (None, Role.DEVELOPER, Role.SUPPORT):
        with pytest.raises(InvalidRequest) as caught:
            keeps_an_owner(members, "ada", new_role)
        assert caught.value.errors["role"][0].key == "errors.last_owner"
    keeps_an_owner(members, "ada", Role.OWNER)  # staying Owner is fine


def test_with_a_second_owner_either_may_step_down() -> None:
    members = _unit(("ada", Role.OWNER), ("cy", Role.OWNER))
    for person in ("ada", "cy"):
        for new_role in (None, Role.DEVELOPER, Role.SUPPORT):
            keeps_an_owner(members, person, new_role)


def test_others_may_come_and_go_around_the_last_owner() -> None:
    members = _unit(("ada", Role.OWNER), ("bob", Role.DEVELOPER), ("sue", Role.SUPPORT))
    keeps_an_owner(members, "bob", None)
    keeps_an_owner(members, "sue", Role.OWNER)
    keeps_an_owner(members, "bob", Role.SUPPORT)


def test_a_unit_without_owners_lets_members_go() -> None:
    """The pre-units unit starts without members; until it has an Owner the rule has nothing to keep."""
    keeps_an_owner(_unit(("bob", Role.DEVELOPER)), "bob", None)


def test_roles_are_parsed_from_forms_and_the_cli() -> None:
    assert parse_role(" Owner ") is Role.OWNER
    with pytest.raises(InvalidRequest) as caught:
        parse_role("admin")
    assert "owner, developer, support" in caught.value.errors["role"][0].description


def test_names_and_emails_are_checked() -> None:
    assert clean_name("  Platform team ") == "Platform team"
    for bad in ("", "   ", "x" * 256):
        with pytest.raises(InvalidRequest):
            clean_name(bad)
    assert clean_email(" Ada@Example.COM ") == "ada@example.com"
    for bad in ("", "ada", "ada@example", "a b@example.com"):
        with pytest.raises(InvalidRequest):
            clean_email(bad)


def test_an_invitation_is_pending_until_accepted_cancelled_or_expired() -> None:
    def invitation(**changes: datetime) -> Invitation:
        made = Invitation("inv_1", "uni_1", "ada@example.com", "developer", "d", NOW, NOW + timedelta(days=7))
        for name, value in changes.items():
            setattr(made, name, value)
        return made

    assert invitation().pending(NOW + timedelta(days=7) - timedelta(seconds=1))
    assert not invitation().pending(NOW + timedelta(days=7))
    assert not invitation(accepted_at=NOW).pending(NOW)
    assert not invitation(cancelled_at=NOW).pending(NOW)
