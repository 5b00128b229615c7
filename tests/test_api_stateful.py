"""The stateful run of schemathesis: scenarios that follow the OpenAPI links of our document.

A created customer feeds its carts, orders, subscriptions and service requests; a cart its checkout, whose
order and subscription feed their GET, PATCH and cancellation (`core.openapi.LINKS`), through
`schema.as_state_machine()`. Every step goes through all of schemathesis' checks. It runs on SQLite and
PostgreSQL. The stateless phases (every operation, every role) are tests/test_api_fuzz.py.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from partnerdesk.accounts.models import Role
from partnerdesk.core.openapi import LINKS
from partnerdesk.policies import service as policies
from tests.orders.factories import load_catalog, software_line
from tests.support.actors import customer_body

SEED = 18
# A support topic that any filer may use (not 1001, the refunds, which must carry a refund request).
SUPPORT_TOPIC = 1006


@pytest.fixture
def stocked_catalog(desk) -> None:
    """Products, SKUs and availabilities to buy, so that purchases reach the checks beyond "no such item"."""
    load_catalog(desk)
    # Each scenario's checks send bad tokens from one address, which the throttle of failed sign-ins would
    # rightly answer with 429 after a few (tests/web/test_signin_throttle.py).
    with desk.database.session() as db:
        policies.set_policy(db, key="signin_failures_per_ip", value=1_000_000, principal=None, now=desk.clock.now())


def without_continuation_token(case) -> None:
    """A continuation token is one the server signed (`core.pagination`): one made up is refused with a 400,
    whatever its shape, so generated ones are left out (tests/core covers forged and stale tokens)."""
    case.headers.pop("MS-ContinuationToken", None)
    if case.query:
        case.query.pop("continuationToken", None)


# --- stateful: the OpenAPI links, followed --------------------------------------------------------------

STATEFUL_CONFIG = {
    "seed": SEED,
    "generation": {"database": "none"},
    # ignored_auth is off here only: the state machine writes the token into each step's case, which the check
    # takes for credentials it generated itself (so likely invalid) and reports the 200 a valid token gets. The
    # stateless tests give the token as schemathesis' auth (CallerToken) and run the check on every operation.
    # positive_data_acceptance is the stateless tests' part (with its gaps, tests/test_api_fuzz.py); here the
    # random extra properties of a body can spell a known field in another letter case ("Language" beside "language"),
    # which the lenient names refuse as a duplicate (core.schemas) and JSON Schema cannot express.
    "checks": {"enabled": True, "ignored_auth": {"enabled": False}, "positive_data_acceptance": {"enabled": False}},
    "phases": {"stateful": {"enabled": True, "max-steps": 8}},
}
STATEFUL_SCENARIOS = {"sqlite": 12, "postgresql": 4}

# The scenarios start from resources that exist: the creations get a body the business rules accept (a
# free domain name, a product of the catalog, a support topic), as a client's would be. What generated
# bodies do to these operations is the stateless tests' part; here the links are.
WELL_FORMED_CREATIONS = {
    "POST /v1/customers": lambda number: customer_body(domain=f"stateful-{number}.onmicrosoft.com"),
    "POST /v1/customers/{customerId}/carts": lambda number: {"lineItems": [software_line(quantity=number % 3 + 1)]},
    "POST /v1/customers/{customerId}/subscriptions/azureplan": lambda number: {"friendlyName": f"plan {number}"},
    "POST /v1/servicerequests/{requestId}": lambda number: {
        "title": f"Question {number}", "description": "Where is the invoice?", "severity": "minimal",
        "supportTopicId": SUPPORT_TOPIC, "primaryContact": {"firstName": "Ana", "lastName": "Silva",
                                                            "email": "ana@contoso.example"}},
}


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_linked_operations_conform_in_sequence(app, actors, stocked_catalog, database_flavour) -> None:
    """Scenarios of linked calls as an admin agent (who may call every linked operation): a customer is
    created, and its id feeds its carts, orders, subscriptions and service requests; a cart feeds its
    checkout, whose order and subscription feed their GET, PATCH and cancellation."""
    config = schemathesis.Config.from_dict(STATEFUL_CONFIG)
    document = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    # The operations the links join; the others are the stateless tests' part.
    linked = {f"{method.upper()} {path}" for method, path, _status in LINKS} | {
        f"{method.upper()} {path}" for links in LINKS.values() for _name, method, path, _parameters in links}
    schema = document.include(name=sorted(linked))
    token = actors(Role.admin_agent).token
    steps: Counter[str] = Counter()

    numbers = itertools.count(1)

    class AsAdminAgent(schema.as_state_machine()):
        def before_call(self, case) -> None:
            # On the case itself, not the call's arguments: the ignored_auth check replays the call with the
            # case's credentials swapped for bad ones, and must not find the good token still sent.
            case.headers["Authorization"] = f"Bearer {token}"
            without_continuation_token(case)
            make = WELL_FORMED_CREATIONS.get(case.operation.label)
            if make is not None:
                case.body = make(next(numbers))


        def after_call(self, response, case) -> None:
            steps[f"{case.operation.label} {response.status_code}"] += 1

    AsAdminAgent.run(settings=settings(max_examples=STATEFUL_SCENARIOS[database_flavour], deadline=None,
                                       suppress_health_check=list(HealthCheck), database=None))
    # Every step went through all the checks (a failure fails the run); the calls are printed for the figures.
    print(f"stateful ({database_flavour}): {sum(steps.values())} calls", dict(steps))
    assert sum(steps.values()) >= STATEFUL_SCENARIOS[database_flavour]
