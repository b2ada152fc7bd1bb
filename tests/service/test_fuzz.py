"""Schema-driven fuzzing of the whole API (schemathesis): no input a client can send gives a 5xx.

Every response must also be one the OpenAPI document promises: a documented
status code, the documented content type, and a body that validates against
the documented schema (errors included), so a client generated from the
document reads what the service sends.

Schemathesis's pytest plugin does not run under this pytest, so the test
drives it directly: one hypothesis run per operation of the OpenAPI
document, each generated request sent with a bank, a regulator and a fund
manager key.

CI runs 20 derandomized examples per operation.  For a deeper search, set
``IPRISK_FUZZ_EXAMPLES`` (examples per operation) and ``IPRISK_FUZZ_SEED``
(a random search from that seed instead of the fixed one), e.g.
``IPRISK_FUZZ_EXAMPLES=300 IPRISK_FUZZ_SEED=7 pytest tests/service/test_fuzz.py -k sqlite``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok

from tests.service.harness import Server

KEYS = ("bank_a", "regulator", "fund_manager")
EXAMPLES = int(os.environ.get("IPRISK_FUZZ_EXAMPLES", "20"))
SEED = os.environ.get("IPRISK_FUZZ_SEED")
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.slow
def test_no_server_errors_and_every_response_as_documented(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    found = list(schema.get_all_operations())
    assert [r.err() for r in found if isinstance(r, Err)] == []  # every operation in the document parses
    operations = [r.ok() for r in found if isinstance(r, Ok)]
    assert len(operations) >= 10
    failures: list[str] = []

    for op in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=SEED is None,
            database=None,
        )
        @given(case=op.as_strategy())
        def run(case: schemathesis.Case[Any]) -> None:
            for who in KEYS:
                response = case.call(
                    base_url=server.base_url, timeout=30, headers={"Authorization": f"Bearer {server.keys[who]}"}
                )
                if response.status_code >= 500:
                    failures.append(
                        f"{who}: {case.method} {case.formatted_path} -> {response.status_code} {response.text[:300]}"
                    )
                    continue
                try:
                    case.validate_response(response, checks=CONFORMANCE)
                except (AssertionError, FailureGroup) as exc:
                    failures.append(
                        f"{who}: {case.method} {case.formatted_path} -> {response.status_code} "
                        f"is not as documented: {str(exc)[:400]}"
                    )

        (seed(int(SEED))(run) if SEED is not None else run)()
    assert failures == []
