"""OAuth scopes: the granular vocabulary, the simplified aliases, and words for the consent page."""

from __future__ import annotations

from collections.abc import Iterable

# Plain-words descriptions, in the order the consent page lists them.
GRANULAR: dict[str, str] = {
    "read_account": "See your name, email address and time zone",
    "list_calendars": "See the list of your calendars",
    "read_events": "Read the events in your calendars",
    "read_free_busy": "See when you are free or busy (not what your events are)",
    "create_event": "Create and change events in your calendars",
    "delete_event": "Delete events it created in your calendars",
    "create_calendar": "Create new calendars",
    "change_participation_status": "Accept or decline invitations for you",
}

# Cronofy's simplified scopes, expanded to the granular ones they stand for.
SIMPLIFIED: dict[str, frozenset[str]] = {
    "read_write": frozenset(GRANULAR),
    "read_only": frozenset({"read_account", "list_calendars", "read_events", "read_free_busy"}),
    "free_busy": frozenset({"read_account", "list_calendars", "read_free_busy"}),
    "free_busy_write": frozenset({"read_account", "list_calendars", "read_free_busy", "create_event", "delete_event"}),
}

# Scopes that imply others (read_events includes free/busy).
_IMPLIES: dict[str, frozenset[str]] = {"read_events": frozenset({"read_free_busy"})}

ALL_SCOPES = " ".join(GRANULAR)


class UnknownScope(ValueError):
    """A scope word outside the vocabulary."""


def parse(scope: str) -> tuple[str, ...]:
    """Split a space-separated scope string, keeping order, dropping repeats; reject unknown words."""
    words: list[str] = []
    for word in scope.split():
        if word not in GRANULAR and word not in SIMPLIFIED:
            raise UnknownScope(word)
        if word not in words:
            words.append(word)
    return tuple(words)


def effective(words: Iterable[str]) -> frozenset[str]:
    """The granular permissions a list of scope words grants."""
    granted: set[str] = set()
    for word in words:
        granted |= SIMPLIFIED.get(word, frozenset({word}))
    for word in list(granted):
        granted |= _IMPLIES.get(word, frozenset())
    return frozenset(granted)


def describe(words: Iterable[str]) -> list[str]:
    """Plain-words lines for the consent page, one per granular permission granted."""
    granted = effective(words)
    return [text for name, text in GRANULAR.items() if name in granted]
