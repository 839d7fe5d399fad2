"""Schemathesis over the whole OpenAPI document: no 5xx, every response in its schema, bad data refused.

Driven through Hypothesis directly (schemathesis' pytest plugin does not run on pytest 9 yet), so each
operation is a test of its own, in positive and negative generation modes, with every check on.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from feedback_app import create_app


def _operations():
    from tests.conftest import PROJECT_ROOT  # noqa: F401  (the same package root the app uses)

    # Only the document is read: no database, and a Redis address nothing listens on (no embedded server).
    app = create_app({"SECRET_KEY": "spec-only", "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": "redis://127.0.0.1:1/0"})
    spec = app.test_client().get("/api/openapi.json").get_json()
    return [(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"]


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


STAFF_PREFIXES = ("/api/v1/triage", "/api/v1/admin", "/api/v1/reports")
REPORT_RULES = ("/api/v1/reports/processing-rate", "/api/v1/reports/overdue")
CASES = [(p, m, signed) for p, m in OPERATIONS for signed in ((False, True) if p.startswith(STAFF_PREFIXES) else (False,))]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("path, method, signed", CASES,
                         ids=[f"{m.upper()} {p}{' as admin' if s else ''}" for p, m, s in CASES])
def test_operation_conforms(api_schema, make_staff, path, method, signed, mode):
    """Staff routes run twice: anonymous (every answer a 401) and signed in as an admin (the real work)."""
    operation = api_schema[path][method]
    headers = make_staff("schema.admin", "admin") if signed else None
    # A schema-valid POST can still break a rule the schema cannot say (lat without lon, a "photo"
    # that is really a PDF, an unknown area code): refusing it with 4xx is right, so that one
    # heuristic is off for writes. Every other check, negative-data rejection included, stays on.
    # Reports refuse what a schema cannot say either: a period that ends before it starts or runs over three
    # years, an agency, field or area code that does not exist (422 naming it, rather than a silent zero).
    excluded = [positive_data_acceptance] if method in ("post", "put", "patch") or path in REPORT_RULES else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case):
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("the operation takes no input that could be made invalid")
