"""Scope words: parsing, what the simplified aliases grant, and the consent page's plain words."""

from __future__ import annotations

import pytest

from horae.domain import scopes


def test_parse_keeps_order_and_drops_repeats() -> None:
    assert scopes.parse("create_event read_events create_event  read_account") == (
        "create_event",
        "read_events",
        "read_account",
    )


def test_parse_accepts_simplified_words_and_any_whitespace() -> None:
    assert scopes.parse("\tread_write\n free_busy ") == ("read_write", "free_busy")


def test_parse_of_nothing_is_empty() -> None:
    assert scopes.parse("") == ()
    assert scopes.parse("   ") == ()


@pytest.mark.parametrize("scope", ["read_events bogus", "READ_EVENTS", "read_events,create_event"])
def test_parse_rejects_unknown_words(scope: str) -> None:
    with pytest.raises(scopes.UnknownScope):
        scopes.parse(scope)


def test_unknown_scope_names_the_offending_word() -> None:
    with pytest.raises(scopes.UnknownScope, match="make_coffee"):
        scopes.parse("read_events make_coffee")


def test_unknown_scope_is_a_value_error() -> None:
    assert issubclass(scopes.UnknownScope, ValueError)


def test_read_write_covers_every_granular_scope() -> None:
    assert scopes.effective(["read_write"]) == frozenset(scopes.GRANULAR)
    assert "change_participation_status" in scopes.effective(["read_write"])


def test_read_only_grants_reading_but_no_writing() -> None:
    granted = scopes.effective(["read_only"])
    assert {"read_account", "list_calendars", "read_events", "read_free_busy"} <= granted
    assert not granted & {"create_event", "delete_event", "create_calendar", "change_participation_status"}


def test_free_busy_does_not_reveal_events() -> None:
    granted = scopes.effective(["free_busy"])
    assert "read_free_busy" in granted
    assert "read_events" not in granted
    assert "create_event" not in granted


def test_free_busy_write_can_write_but_not_read_events() -> None:
    granted = scopes.effective(["free_busy_write"])
    assert {"read_free_busy", "create_event", "delete_event"} <= granted
    assert "read_events" not in granted


def test_read_events_implies_read_free_busy() -> None:
    assert scopes.effective(["read_events"]) == frozenset({"read_events", "read_free_busy"})


def test_read_free_busy_does_not_imply_read_events() -> None:
    assert scopes.effective(["read_free_busy"]) == frozenset({"read_free_busy"})


def test_granular_words_grant_only_themselves() -> None:
    assert scopes.effective(["create_event", "delete_event"]) == frozenset({"create_event", "delete_event"})


def test_effective_of_nothing_is_nothing() -> None:
    assert scopes.effective([]) == frozenset()


def test_every_simplified_scope_expands_to_granular_words_only() -> None:
    for word in scopes.SIMPLIFIED:
        granted = scopes.effective([word])
        assert granted, word
        assert granted <= frozenset(scopes.GRANULAR), word


def test_all_scopes_is_every_granular_word_and_parses() -> None:
    assert set(scopes.parse(scopes.ALL_SCOPES)) == set(scopes.GRANULAR)


def test_describe_gives_plain_words_for_each_granted_permission() -> None:
    lines = scopes.describe(["read_events", "create_event"])
    assert lines == [
        scopes.GRANULAR["read_events"],
        scopes.GRANULAR["read_free_busy"],
        scopes.GRANULAR["create_event"],
    ]
    # Words for people, not the scope identifiers.
    for line in lines:
        assert "_" not in line
        assert line[0].isupper()


def test_describe_follows_the_consent_page_order_not_the_request_order() -> None:
    assert scopes.describe(["create_event", "read_account"]) == scopes.describe(["read_account", "create_event"])
    assert scopes.describe(["create_event", "read_account"])[0] == scopes.GRANULAR["read_account"]


def test_describe_read_write_lists_everything_once() -> None:
    lines = scopes.describe(["read_write", "read_events"])
    assert lines == list(scopes.GRANULAR.values())
    assert len(set(lines)) == len(lines)


def test_every_granular_scope_has_a_distinct_description() -> None:
    texts = list(scopes.GRANULAR.values())
    assert all(text.strip() for text in texts)
    assert len(set(texts)) == len(texts)
