"""Provider plugins: calendar and conferencing backends, found by short name, dotted path or entry point."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "horae.providers"


class UnknownProvider(LookupError):
    """No built-in, importable or registered provider has that name."""


def load(name: str, built_in: dict[str, str]) -> Any:
    """The provider class for `name`: a built-in short name, an entry point in `horae.providers`,
    or a dotted path `package.module:Class` / `package.module.Class` (third parties need no registration)."""
    target = built_in.get(name)
    if target is None:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if found:
            return found[0].load()
        target = name
    module_name, sep, attr = target.partition(":")
    if not sep:
        module_name, _, attr = target.rpartition(".")
    if not module_name or not attr:
        raise UnknownProvider(name)
    try:
        return getattr(import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UnknownProvider(name) from exc
