"""The Real-Time Scheduling and Sequencing operations fuzzed with the application's API key (the shared
conformance test calls them with an account token or nothing): never a 5xx, every answer as documented."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.test_schemathesis import KEY_ONLY_NESTED, NESTED_EXAMPLES, World, fuzzed, schema

__all__ = ["fuzzed"]

linked = schema.include(path_regex="^/v1/real_time_")


@linked.exclude(method="POST", path=KEY_ONLY_NESTED).parametrize()
@linked.given(data=st.data())
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_links_conform_with_the_api_key(case: Any, data: st.DataObject, fuzzed: World) -> None:
    conforms_with_the_key(case, data, fuzzed)


@schema.include(method="POST", path=KEY_ONLY_NESTED).parametrize()
@linked.given(data=st.data())
@settings(max_examples=NESTED_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_sequencing_links_conform_with_the_api_key(case: Any, data: st.DataObject, fuzzed: World) -> None:
    conforms_with_the_key(case, data, fuzzed)


def conforms_with_the_key(case: Any, data: st.DataObject, fuzzed: World) -> None:
    if isinstance(case.body, dict) and data.draw(st.booleans(), label="real participant"):
        availability = case.body.get("availability")
        if isinstance(availability, dict):
            availability["participants"] = [{"members": [{"sub": fuzzed.ada.sub}]}]
    key = {"Authorization": f"Bearer {fuzzed.ada.app.client_secret}"}
    # Links have rules no JSON schema states (periods in order, calendars the participants own), so a
    # well-formed request may still get its documented 422.
    case.call_and_validate(app=fuzzed.app, headers=key, excluded_checks=[positive_data_acceptance])
