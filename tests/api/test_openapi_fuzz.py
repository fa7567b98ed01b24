"""schemathesis against the native API's OpenAPI document, with the real app in-process: for
requests generated from the document, no 500, and every answer matches the document (status
codes, content types, response schemas). Bounded: a few examples per operation.

Left out: the operations that would fetch generated URLs from the network (subscribing with a
check, importing OPML, refreshing after such an import): tests must never reach a public
address. test_native covers them with loopback URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from newsdesk.desk import Desk
from newsdesk.web.app import create_app

from .conftest import Template, _settings, copy_database

pytestmark = pytest.mark.slow

LEFT_OUT = [("POST", "/api/subscriptions"), ("POST", "/api/opml"), ("POST", "/api/refresh")]
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def test_native_api_conforms(api_template: Template, tmp_path: Path) -> None:
    desk = Desk(_settings(copy_database(api_template, tmp_path)))
    app = create_app(desk.settings, desk=desk)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    for method, path in LEFT_OUT:
        schema = schema.exclude(method=method, path=path)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    headers = {"X-Auth-Token": api_template.key}
    try:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=15,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def call(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            call()
    finally:
        jobs = app.state.ctx.jobs
        if jobs is not None:
            jobs.wait(timeout=30)
        desk.close()
