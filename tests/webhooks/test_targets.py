"""Webhooks reach public hosts only (SSRF guard), unless the operator allows private targets."""

from __future__ import annotations

import socket

import httpcore
import httpx
import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.webhooks import delivery, targets
from partnerdesk.webhooks.models import WebhookEndpoint
from partnerdesk.webhooks.service import OutgoingRequest
from partnerdesk.webhooks.targets import PublicOnlyTransport, is_public, literal_address, private_host_problem
from tests.webhooks.helpers import count, create_endpoint, deliver_due, partner_id_of, publish

# Every address form that must never be a webhook's destination: private, loopback, link-local,
# special-purpose, and each IPv6 form that carries an IPv4 address (whichever IPv4 address it carries).
NOT_PUBLIC_ADDRESSES = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
    "192.0.0.8", "192.0.0.170", "198.18.0.1", "192.0.2.1", "240.0.0.1", "224.0.0.1", "255.255.255.255",
    "::1", "::", "fd00::1", "fe80::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:8.8.8.8",              # IPv4-mapped
    "::127.0.0.1", "::8.8.8.8",                        # IPv4-compatible
    "::ffff:0:7f00:1", "::ffff:0:808:808",             # SIIT IPv4-translated
    "64:ff9b::7f00:1", "64:ff9b::808:808",             # NAT64, well-known prefix
    "64:ff9b:1::7f00:1",                               # NAT64, local-use prefix
    "2002:7f00:1::", "2002:808:808::1",                # 6to4
    "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:2800:220:1:248:1893:25c8:1946",
                    "2001:4860:4860::8888"]


def _in_url(address: str) -> str:
    return f"[{address}]" if ":" in address else address


PRIVATE_HOSTS = [_in_url(address) for address in NOT_PUBLIC_ADDRESSES] + [
    "localhost", "LOCALHOST.", "api.localhost", "2130706433", "0x7f.1", "127.1"]


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"webhook_private_targets": False})


@pytest.fixture
def admin(actors):
    return actors(Role.admin_agent)


class FakeDns:
    """A resolver the test controls: its names resolve to the addresses it is given, and every
    resolution is recorded; anything else (the literal addresses a connection resolves) goes to the
    system's resolver."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: dict[str, list[str]] = {}
        self.asked: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            self.asked.append(host)
            if host not in self.names:
                return real(host, port, *args, **kwargs)
            return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (address, port)) for address in self.names[host]]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def dns(monkeypatch) -> FakeDns:
    return FakeDns(monkeypatch)


class RecordingConnector(httpcore.SyncBackend):
    """Records the address each connection is made to, and reaches `actual` (the test's receiver) instead,
    as a network would route a public address to its host."""

    def __init__(self, actual: tuple[str, int]) -> None:
        self.actual = actual
        self.connected_to: list[tuple[str, int]] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected_to.append((host, port))
        return super().connect_tcp(*self.actual, timeout=timeout)


# --- when an endpoint is saved ---------------------------------------------------------------

@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_an_endpoint_on_a_private_or_local_address_is_refused_and_nothing_is_written(admin, desk, host):
    response = admin.post("/v1/webhooks", json={"url": f"http://{host}:8080/hooks", "eventTypes": ["order.created"]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 5000
    assert f"'http://{host}:8080/hooks' is not a public address;" in body["description"]
    assert "PARTNERDESK_WEBHOOK_PRIVATE_TARGETS=1" in body["description"]
    assert count(desk, WebhookEndpoint) == 0


def test_an_endpoint_cannot_be_moved_to_a_private_address(admin, desk):
    endpoint = create_endpoint(admin, "https://hooks.example.com/partnerdesk")
    for url in ("http://169.254.169.254/latest/meta-data", "http://[::ffff:0:7f00:1]/", "http://[64:ff9b::7f00:1]/"):
        moved = admin.patch(f"/v1/webhooks/{endpoint['id']}", json={"url": url})
        assert moved.status_code == 400 and moved.json()["code"] == 5000
    assert admin.get(f"/v1/webhooks/{endpoint['id']}").json()["url"] == "https://hooks.example.com/partnerdesk"


@pytest.mark.parametrize("url", ["https://hooks.example.com/partnerdesk", "https://93.184.216.34/hooks",
                                 "https://[2606:2800:220:1:248:1893:25c8:1946]/hooks"])
def test_public_hosts_are_accepted(admin, url):
    assert admin.post("/v1/webhooks", json={"url": url, "eventTypes": ["order.created"]}).status_code == 201


@pytest.mark.parametrize("host", [*PRIVATE_HOSTS, "0177.0.0.1"])  # the URL check refuses that spelling first
def test_every_private_form_is_recognised_without_dns(host):
    assert private_host_problem(host.strip("[]")) == "is not a public address"


@pytest.mark.parametrize("host", ["hooks.example.com", "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                                  "localhost.example.com", "1e100.net", "0x.example.com"])
def test_public_forms_pass_without_dns(host):
    assert private_host_problem(host) is None


@pytest.mark.parametrize("address", NOT_PUBLIC_ADDRESSES)
def test_each_non_public_address_is_refused(address):
    assert not is_public(literal_address(address))


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed(address):
    assert is_public(literal_address(address))


# --- when a delivery connects ------------------------------------------------------------------

@pytest.mark.parametrize("address", NOT_PUBLIC_ADDRESSES)
def test_a_name_resolving_to_any_non_public_form_gets_no_delivery_and_the_error_names_nothing(
        admin, desk, receiver, dns, address):
    """The name is saved (it is only resolved when delivering); the delivery refuses it and says only
    "not a public address": neither the internal name's addresses nor anything else about the network."""
    dns.names["vm.internal.example"] = [address]
    endpoint = create_endpoint(admin, "http://vm.internal.example:8080/hooks")
    publish(desk, partner_id_of(desk, admin))
    deliver_due(desk)
    assert "vm.internal.example" in dns.asked
    assert receiver.requests == []
    [attempted] = admin.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"]
    assert attempted["status"] == "pending"  # retried later, in case the operator allows it or the name moves
    assert attempted["attempts"][0]["error"] == "not a public address"


@pytest.mark.parametrize("address", ["127.0.0.1", "::ffff:0:7f00:1", "64:ff9b::7f00:1"])
def test_a_literal_saved_before_the_guard_is_refused_when_delivering(admin, desk, receiver, address):
    desk.settings.webhook_private_targets = True  # as if the endpoint had been saved before the guard ...
    endpoint = create_endpoint(admin, f"http://{_in_url(address)}:8080/hooks")
    desk.settings.webhook_private_targets = False  # ... which now applies to every delivery
    publish(desk, partner_id_of(desk, admin))
    deliver_due(desk)
    [attempted] = admin.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"]
    assert attempted["attempts"][0]["error"] == "not a public address"


def test_localhost_saved_before_the_guard_is_refused_when_delivering(admin, desk, receiver):
    desk.settings.webhook_private_targets = True
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint = create_endpoint(admin, f"http://localhost:{port}/hooks")
    desk.settings.webhook_private_targets = False
    publish(desk, partner_id_of(desk, admin))
    deliver_due(desk)
    assert receiver.requests == []
    [attempted] = admin.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"]
    assert attempted["attempts"][0]["error"] == "not a public address"


def test_a_name_with_one_private_address_among_public_ones_is_refused_whole(receiver, dns):
    dns.names["mixed.example"] = ["93.184.216.34", "10.0.0.7", "8.8.8.8"]
    connector = RecordingConnector(receiver.server.server_address)
    with httpx.Client(transport=PublicOnlyTransport(connector=connector)) as client, \
            pytest.raises(targets.NotPublicAddress, match="^not a public address$"):
        client.post("http://mixed.example/hooks", content=b"{}")
    assert connector.connected_to == [] and receiver.requests == []


def test_a_public_name_is_reached_at_the_address_that_was_checked_and_nowhere_else(receiver, dns):
    """The transport connects to the resolved, checked address itself: the connector is never given
    the host name (which it would resolve again, perhaps to something else)."""
    dns.names["hooks.partner.example"] = ["93.184.216.34"]
    connector = RecordingConnector(receiver.server.server_address)
    with httpx.Client(transport=PublicOnlyTransport(connector=connector)) as client:
        answer = client.post("http://hooks.partner.example:8443/hooks?x=1", content=b'{"a":1}',
                             headers={"webhook-id": "msg_1"})
    assert answer.status_code == 200 and answer.read() == b"ok"
    assert connector.connected_to == [("93.184.216.34", 8443)]
    [received] = receiver.requests
    assert received.path == "/hooks?x=1" and received.body == b'{"a":1}'
    assert received.headers["Host"] == "hooks.partner.example:8443"
    assert received.headers["webhook-id"] == "msg_1"


def test_send_reports_a_refused_connection_as_an_httpx_error_without_the_url(dns):
    dns.names["down.partner.example"] = ["93.184.216.34"]

    class Refusing(httpcore.SyncBackend):
        def connect_tcp(self, *args, **kwargs):
            raise httpcore.ConnectError("[Errno 111] Connection refused")

    with httpx.Client(transport=PublicOnlyTransport(connector=Refusing())) as client, \
            pytest.raises(httpx.ConnectError, match="Connection refused"):
        client.post("http://down.partner.example/hooks", content=b"{}")


def test_a_delivery_to_a_literal_private_address_says_only_not_a_public_address():
    outcome = delivery.send(OutgoingRequest(delivery_id="d", url="http://[::127.0.0.1]:9/hooks", body=b"{}",
                                            headers={}))
    assert outcome.error == "not a public address" and outcome.status_code is None


def test_the_operator_can_allow_private_targets(admin, desk, receiver):
    desk.settings.webhook_private_targets = True
    create_endpoint(admin, receiver.url)
    publish(desk, partner_id_of(desk, admin))
    assert deliver_due(desk) == 1
    assert len(receiver.requests) == 1
