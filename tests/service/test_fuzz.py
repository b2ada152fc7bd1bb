"""Schema-driven fuzzing of the whole API (schemathesis): no input a client can send gives a 5xx.

Schemathesis's pytest plugin does not run under this pytest, so the test
drives it directly: one hypothesis run per operation of the OpenAPI
document, each generated request sent with a bank, a regulator and a fund
manager key.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.service.conftest import Server

KEYS = ("bank_a", "regulator", "fund_manager")


def test_no_server_errors(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 10
    failures: list[str] = []

    for op in operations:

        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=op.as_strategy())
        def run(case: schemathesis.Case) -> None:
            for who in KEYS:
                response = case.call(base_url=server.base_url, timeout=30,
                                     headers={"Authorization": f"Bearer {server.keys[who]}"})
                if response.status_code >= 500:
                    failures.append(f"{who}: {case.method} {case.formatted_path} -> "
                                    f"{response.status_code} {response.text[:300]}")

        run()
    assert failures == []
