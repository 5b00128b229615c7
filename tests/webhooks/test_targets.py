"""Webhooks reach public hosts only (SSRF guard), unless the operator allows private targets."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.webhooks.models import WebhookEndpoint
from partnerdesk.webhooks.targets import private_host_problem
from tests.webhooks.helpers import count, create_endpoint, deliver_due, partner_id_of, publish

PRIVATE_HOSTS = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
                 "100.64.0.1", "[::1]", "[::ffff:127.0.0.1]", "[fd00::1]", "[fe80::1]", "localhost", "LOCALHOST.",
                 "api.localhost"]


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"webhook_private_targets": False})


@pytest.fixture
def admin(actors):
    return actors(Role.admin_agent)


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_an_endpoint_on_a_private_or_local_address_is_refused_and_nothing_is_written(admin, desk, host):
    response = admin.post("/v1/webhooks", json={"url": f"http://{host}:8080/hooks", "eventTypes": ["order.created"]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 5000
    assert "webhooks go to public hosts" in body["description"]
    assert "PARTNERDESK_WEBHOOK_PRIVATE_TARGETS=1" in body["description"]
    assert count(desk, WebhookEndpoint) == 0


def test_an_endpoint_cannot_be_moved_to_a_private_address(admin, desk):
    endpoint = create_endpoint(admin, "https://hooks.example.com/partnerdesk")
    moved = admin.patch(f"/v1/webhooks/{endpoint['id']}", json={"url": "http://169.254.169.254/latest/meta-data"})
    assert moved.status_code == 400 and moved.json()["code"] == 5000
    assert admin.get(f"/v1/webhooks/{endpoint['id']}").json()["url"] == "https://hooks.example.com/partnerdesk"


@pytest.mark.parametrize("url", ["https://hooks.example.com/partnerdesk", "https://93.184.216.34/hooks",
                                 "https://[2606:2800:220:1:248:1893:25c8:1946]/hooks"])
def test_public_hosts_are_accepted(admin, url):
    assert admin.post("/v1/webhooks", json={"url": url, "eventTypes": ["order.created"]}).status_code == 201


def test_a_name_that_resolves_to_a_private_address_gets_no_delivery(admin, desk, receiver):
    """The name is only resolved when delivering, and the delivery connects to nothing it refused."""
    desk.settings.webhook_private_targets = True  # as if the endpoint had been saved before the guard ...
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint = create_endpoint(admin, f"http://localhost:{port}/hooks")
    desk.settings.webhook_private_targets = False  # ... which now applies to every delivery
    publish(desk, partner_id_of(desk, admin))
    deliver_due(desk)
    assert receiver.requests == []
    [delivery] = admin.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"]
    assert delivery["status"] == "pending"  # retried later, in case the operator allows it or the name moves
    error = delivery["attempts"][0]["error"]
    assert "resolves only to private or local addresses" in error and "127.0.0.1" in error


def test_the_operator_can_allow_private_targets(admin, desk, receiver):
    desk.settings.webhook_private_targets = True
    create_endpoint(admin, receiver.url)
    publish(desk, partner_id_of(desk, admin))
    assert deliver_due(desk) == 1
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_every_private_form_is_recognised_without_dns(host):
    assert private_host_problem(host.strip("[]")) is not None


@pytest.mark.parametrize("host", ["hooks.example.com", "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                                  "localhost.example.com"])
def test_public_forms_pass_without_dns(host):
    assert private_host_problem(host) is None
