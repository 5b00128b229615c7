"""`GET /metrics`: Prometheus text for the operator (or everyone with PARTNERDESK_METRICS_PUBLIC=1):
requests by route template and status, latencies, checkouts, downloads and errors by code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from tests.ops.conftest import sample
from tests.support.actors import customer_body


def scrape(actors) -> str:
    answer = actors(Role.operator).get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


@pytest.mark.parametrize("role", [Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin])
def test_other_roles_are_refused(actors, role):
    answer = actors(role).get("/metrics")
    assert answer.status_code == 403 and answer.json()["code"] == 1101


def test_without_a_token_it_is_401(client):
    assert client.get("/metrics").status_code == 401


def test_the_operator_can_make_it_public(desk, settings):
    desk.settings.metrics_public = True
    answer = TestClient(create_app(desk=desk)).get("/metrics")
    assert answer.status_code == 200 and "partnerdesk_http_requests_total" in answer.text


def test_requests_are_counted_by_route_template_and_status(actors, client):
    admin = actors(Role.admin_agent)
    before = scrape(actors)
    customer = admin.post("/v1/customers", json=customer_body())
    assert customer.status_code == 201, customer.text
    for _ in range(3):
        assert admin.get(f"/v1/customers/{customer.json()['id']}").status_code == 200
    assert admin.get("/v1/customers/00000000-0000-4000-8000-000000000000").status_code == 404
    client.get("/no/such/page/with/a/unique/name")
    after = scrape(actors)
    route = "/v1/customers/{customerId}"
    counted = {status: sample(after, "partnerdesk_http_requests_total", method="GET", route=route, status=status)
               - sample(before, "partnerdesk_http_requests_total", method="GET", route=route, status=status)
               for status in ("200", "404")}
    assert counted == {"200": 3, "404": 1}
    assert "/no/such/page" not in after  # a path no route knows is one label, "unmatched"
    assert sample(after, "partnerdesk_http_requests_total", method="GET", route="unmatched", status="404") >= 1
    assert sample(after, "partnerdesk_http_request_duration_seconds_count", method="GET", route=route) - \
        sample(before, "partnerdesk_http_request_duration_seconds_count", method="GET", route=route) == 4
    errors = sample(after, "partnerdesk_errors_total", code="1200") - sample(before, "partnerdesk_errors_total",
                                                                            code="1200")
    assert errors >= 2  # the unknown customer and the unknown path


def test_checkouts_and_downloads_are_counted(actors, software):
    before = scrape(actors)
    link = software.link()  # one purchase (a checkout) and its download link
    assert software.download(link).status_code == 200
    assert software.download(link, "HEAD").status_code == 200  # HEAD never counts as a download
    after = scrape(actors)
    assert sample(after, "partnerdesk_checkouts_total") - sample(before, "partnerdesk_checkouts_total") == 1
    assert sample(after, "partnerdesk_downloads_total") - sample(before, "partnerdesk_downloads_total") == 1
    assert link.rsplit("/", 1)[1] not in after  # never a link's token


def test_refusals_are_counted_by_error_code(actors):
    before = scrape(actors)
    assert actors(Role.sales_agent).post("/v1/sandbox/clock", json={"advanceDays": 1}).status_code == 403
    after = scrape(actors)
    assert sample(after, "partnerdesk_errors_total", code="1101") - sample(before, "partnerdesk_errors_total",
                                                                          code="1101") == 1


SCRIPT = """
import sys
from partnerdesk.ops import metrics
if sys.argv[1] == "count":
    metrics.observe(method="POST", route="/v1/customers/{customerId}/carts/{cartId}/checkout", status=201,
                    seconds=0.01, error_code=None)
else:
    sys.stdout.write(metrics.exposition()[0].decode())
"""


def test_with_a_multiprocess_folder_the_processes_add_up(tmp_path):
    """As under several server workers: each process writes its samples to the folder, and whichever
    process answers /metrics reports the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(3):
        subprocess.run([sys.executable, "-c", SCRIPT, "count"], env=env, check=True, timeout=60)
    text = subprocess.run([sys.executable, "-c", SCRIPT, "show"], env=env, check=True, timeout=60,
                          capture_output=True, text=True).stdout
    assert sample(text, "partnerdesk_checkouts_total") == 3


def test_an_exception_no_handler_answered_is_a_500_counted_as_unhandled(desk, actors):
    app = create_app(desk=desk)

    def broken() -> None:
        raise RuntimeError("a defect")

    app.add_api_route("/broken-for-the-test", broken)
    before = scrape(actors)
    assert TestClient(app, raise_server_exceptions=False).get("/broken-for-the-test").status_code == 500
    after = scrape(actors)
    assert sample(after, "partnerdesk_errors_total", code="unhandled") - \
        sample(before, "partnerdesk_errors_total", code="unhandled") == 1
    assert sample(after, "partnerdesk_http_requests_total", method="GET", route="/broken-for-the-test",
                  status="500") == 1
