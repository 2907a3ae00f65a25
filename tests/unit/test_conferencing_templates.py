"""Conferencing requests and templates (domain/conferencing.py): each mode checked, both variables rendered
with details or the localized fallback in each place, invite_block refused in the location."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from horae.domain import conferencing as conf
from horae.domain.conferencing import BadConferencing, ConferencingDetails

ZOOM = ConferencingDetails("Zoom", "https://zoom.example/j/123", passcode="9876", dial_ins=("+1 555 0100",))
BOTH = "Agenda\nJoin: {{ cronofy.conferencing.join_url }}\n{{cronofy.conferencing.invite_block}}"


@pytest.mark.parametrize(
    ("locale", "fallback"),
    [
        ("en", "(Details to follow)"),
        ("de", "(Details folgen)"),
        ("fr", "(Détails à venir)"),
        ("fr-CA", "(Détails à venir)"),
        ("de_AT", "(Details folgen)"),
        ("xx", "(Details to follow)"),  # unknown: English
        (None, "(Details to follow)"),
    ],
)
def test_before_details_exist_each_variable_renders_the_fallback_of_the_locale(
    locale: str | None, fallback: str
) -> None:
    assert conf.render(BOTH, None, locale) == f"Agenda\nJoin: {fallback}\n{fallback}"
    assert conf.render("Room; {{ cronofy.conferencing.join_url }}", None, locale) == f"Room; {fallback}"


@pytest.mark.parametrize(
    ("locale", "join", "passcode"),
    [
        ("en", "Join Zoom", "Passcode: 9876"),
        ("de", "An Zoom teilnehmen", "Kenncode: 9876"),
        ("fr", "Rejoindre Zoom", "Code secret : 9876"),
    ],
)
def test_with_details_the_join_url_and_the_localized_invite_block_are_written(
    locale: str, join: str, passcode: str
) -> None:
    rendered = conf.render(BOTH, ZOOM, locale)
    block = "\n".join([join, "https://zoom.example/j/123", rendered.splitlines()[4], passcode])
    assert rendered == f"Agenda\nJoin: https://zoom.example/j/123\n{block}"
    assert "+1 555 0100" in rendered.splitlines()[4]


def test_the_invite_block_is_refused_in_the_location_and_unknown_variables_anywhere() -> None:
    conf.check_templates(BOTH, "{{ cronofy.conferencing.join_url }}")
    with pytest.raises(BadConferencing) as refused:
        conf.check_templates("", "{{ cronofy.conferencing.invite_block }}")
    assert refused.value.field == "location.description"
    with pytest.raises(BadConferencing) as unknown:
        conf.check_templates("{{ cronofy.conferencing.password }}", None)
    assert unknown.value.field == "description"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (None, "conferencing"),
        ({}, "conferencing.profile_id"),
        ({"profile_id": "zoom"}, "conferencing.profile_id"),
        ({"profile_id": "explicit", "join_url": "https://x.example"}, "conferencing.provider_description"),
        ({"profile_id": "explicit", "provider_description": "Jitsi"}, "conferencing.join_url"),
        ({"profile_id": "explicit", "provider_description": "J", "join_url": "javascript:alert(1)"},
         "conferencing.join_url"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field_at_fault(raw: object, field: str) -> None:
    with pytest.raises(BadConferencing) as refused:
        conf.parse_request(raw)
    assert refused.value.field == field


def test_each_mode_and_a_profile_id_are_accepted() -> None:
    for mode in ("default", "integrated", "none"):
        assert conf.parse_request({"profile_id": mode}) == conf.ConferencingRequest(mode)
    explicit = conf.parse_request({"profile_id": "explicit", "provider_description": " Jitsi ",
                                   "join_url": "https://meet.jit.si/horae"})  # fmt: skip
    assert (explicit.provider_description, explicit.join_url) == ("Jitsi", "https://meet.jit.si/horae")
    assert conf.parse_request({"profile_id": "pro_zoom1"}).by_profile


@given(st.text(max_size=200), st.sampled_from(["en", "de", "fr", "pt", None]))
def test_rendering_leaves_no_variable_behind_and_text_without_variables_unchanged(
    text: str, locale: str | None
) -> None:
    templated = f"{text}{{{{ cronofy.conferencing.join_url }}}}{text}"
    for details in (None, ZOOM):
        assert not conf.has_templates(conf.render(templated, details, locale))
    if not conf.has_templates(text):
        assert conf.render(text, ZOOM, locale) == text
