"""Schemathesis against our own OpenAPI document: every operation, every role, every check, zero failures.

Each operation of `/openapi.json` is called with a valid token of each role (the four agent roles of a
partner and the operator) and with no token, in schemathesis' three stateless phases: the schema's
examples, the coverage phase (boundary and type-mutation cases built from each schema, unexpected methods)
and random fuzzing (positive and negative data). Every response goes through all of schemathesis'
checks: no 5xx, a documented status, content type and headers, a body that matches the documented
schema, schema-invalid input refused and schema-valid input accepted, required headers, 405 with the right
`Allow` header, and resources that stay available or gone as they should.

SQLite is enough for the stateless run (it is the same code whatever the engine; what engines store
differently has tests of its own). The stateful run, which follows the OpenAPI links of the document and
also goes to PostgreSQL, is tests/test_api_stateful.py.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.config import Settings
from partnerdesk.policies import service as policies
from tests.orders.factories import load_catalog

# Examples per operation in the fuzzing phase; the examples and coverage phases build their own cases.
FUZZ_EXAMPLES = 5
SEED = 18

# Where JSON Schema cannot say everything the business rules ask of a valid request, a schema-valid request can
# still be refused with a 400: schemathesis' `positive_data_acceptance` is off for these operations only, each
# for the reason given (every other check still runs on them, and their documents say what JSON Schema can:
# formats, patterns, enums, bounds). Every other operation's document states its rules (docs/api-conformance.md).
POSITIVE_DATA_GAPS = {
    "POST /v1/webhooks": "the URL must resolve to public addresses only (the SSRF guard asks DNS)",
    "PATCH /v1/webhooks/{webhookId}": "as POST /v1/webhooks",
    "POST /v1/servicerequests/{requestId}": "a refund request's items are checked against the customer's orders "
                                            "and each other (amount within what the order cost, currency the "
                                            "order's)",
    "POST /v1/servicerequests/{requestId}/attachments": "the operator's attachment policies decide which "
                                                        "files (types, sizes, count) are accepted",
    "POST /v1/hybridbenefit/estimates": "a VM line's rates come from the rate table when left out (a size and "
                                        "region it must hold), and the rate with Windows is at least the base rate",
    "POST /v1/customers/{customerId}/hybridbenefit/estimates": "as POST /v1/hybridbenefit/estimates",
    "GET /v1/profiles/billing": "the operator must name the partner (partnerId); a partner's agents need not: "
                                "one document for every caller cannot say it",
    "POST /v1/pricelists": "the price list is a CSV file of its own format, read whole (catalog.pricelists)",
    "POST /v1/hybridbenefit/rates": "the rates are a CSV file of their own format, read whole",
    "GET /v1/auditrecords": "startDate must not be after endDate (two parameters compared)",
}

FUZZ_CONFIG = {
    "seed": SEED,
    # The suite runs on two busy cores: a deep offset on a list may take seconds there, not a failure.
    "request-timeout": 60,
    "operations": [{"include-name": name, "checks": {"positive_data_acceptance": {"enabled": False}}}
                   for name in POSITIVE_DATA_GAPS],
    "generation": {"max-examples": FUZZ_EXAMPLES, "database": "none", "mode": "all"},
    "checks": {"enabled": True},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
}


def _openapi_document() -> dict:
    """The document as the app serves it (routes do not depend on the database: a throwaway one will do)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=f"sqlite:///{folder}/openapi.db", sandbox=True,
                            secret_key="openapi-document-only")
        return create_app(settings).openapi()


api = schemathesis.openapi.from_dict(_openapi_document(), config=schemathesis.Config.from_dict(FUZZ_CONFIG))

# The token of the caller the running test speaks for (None: no token), set by the `caller` fixture.
CALLER_TOKEN: dict[str, str | None] = {"token": None}


class CallerToken:
    """The caller's real token, given to schemathesis as its auth. A token written into the case by the test
    would look to schemathesis like one it generated itself (so likely invalid), and its ignored_auth check
    would then report the 200 that a valid token rightly gets; given this way, the check instead probes each
    operation with no credentials and with bad ones, and expects 401."""

    def get(self, case, ctx) -> str | None:
        return CALLER_TOKEN["token"]

    def set(self, case, data: str, ctx) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# Not cached: every test makes its own agents, so its own tokens.
api.auth(refresh_interval=None)(CallerToken)


@pytest.fixture
def caller(request, actors):
    role = request.param
    CALLER_TOKEN["token"] = actors(role).token if role else None
    yield role
    CALLER_TOKEN["token"] = None


@pytest.fixture
def stocked_catalog(desk) -> None:
    """Products, SKUs and availabilities to buy, so that purchases reach the checks beyond "no such item"."""
    load_catalog(desk)
    # The fuzzer sends thousands of deliberately bad tokens from one address, which the throttle of failed
    # sign-ins would rightly answer with 429 after a few (tests/web/test_signin_throttle.py); ignored_auth
    # wants to see each of them refused with 401.
    with desk.database.session() as db:
        policies.set_policy(db, key="signin_failures_per_ip", value=1_000_000, principal=None, now=desk.clock.now())


def count_case(role: Role | None, case) -> None:
    """With PARTNERDESK_FUZZ_COUNTS=<file>, one line per case sent (caller, phase, operation): the figures of
    docs/api-conformance.md are counted from it."""
    counts = os.environ.get("PARTNERDESK_FUZZ_COUNTS")
    if counts:
        with open(counts, "a", encoding="utf-8") as out:
            phase = case.meta.phase.name.value if case.meta else "-"
            out.write(f"{role or 'no_token'} {phase} {case.operation.label}\n")


def without_continuation_token(case) -> None:
    """A continuation token is one the server signed (`core.pagination`): one made up is refused with a 400,
    whatever its shape, so generated ones are left out (tests/core covers forged and stale tokens)."""
    case.headers.pop("MS-ContinuationToken", None)
    if case.query:
        case.query.pop("continuationToken", None)


# Every caller of each operation is one pytest item of one test: schemathesis builds an operation's test (its
# coverage cases included) once and pytest runs it per caller, where one test function per caller had it build
# the same cases six times at collection.
CALLERS = [Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin, Role.operator, None]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("caller", CALLERS, indirect=True, ids=[role.value if role else "no_token" for role in CALLERS])
@api.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_operation_conforms(case, app, caller, stocked_catalog) -> None:
    # The document is read once, at collection; each test serves its own app (and database). The checks
    # that send probes of their own (ignored_auth, use_after_free) reach it through the schema.
    case.operation.schema.app = app
    without_continuation_token(case)
    case.call_and_validate(app=app)
    count_case(caller, case)
