"""Conferencing providers: each module holds one service implementing the ConferencingProvider port."""

from __future__ import annotations

from collections.abc import Mapping

from horae import providers
from horae.ports import ConferencingProvider

BUILT_IN = {
    "jitsi": "horae.providers.conferencing.jitsi:JitsiConferencing",
    "zoom": "horae.providers.conferencing.zoom:ZoomConferencing",
    "teams": "horae.providers.conferencing.teams:TeamsConferencing",
}


def load_conferencing_provider(name: str, options: Mapping[str, str] | None = None) -> ConferencingProvider:
    """An instance of the conferencing provider called `name` (short name, entry point or dotted path), made
    with its options (`Settings.provider_options`)."""
    provider_class = providers.load(name, BUILT_IN)
    instance = provider_class(dict(options or {}))
    return instance  # type: ignore[no-any-return]
