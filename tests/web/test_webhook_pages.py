"""Webhook pages: endpoints added (the secret shown once), paused, deleted; deliveries and their attempts,
sent again; for the partner's admin agents only, as `/v1/webhooks`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.webhooks import signing
from tests.support.portal import Page, PortalBrowser, signed_in
from tests.webhooks.helpers import create_endpoint, deliver_due, partner_id_of, publish
from tests.webhooks.receiver import Receiver

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
NOT_ADMINS = [Role.operator, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def admin(app, desk) -> PortalBrowser:
    return signed_in(app, desk, Role.admin_agent)


def add_by_form(admin: PortalBrowser, url: str, events: tuple[str, ...] = ("order.created",)) -> tuple[str, str]:
    """Adds an endpoint through the page; returns its id and the secret the page showed."""
    response = admin.client.post("/webhooks/new", headers=admin.headers, data={
        "csrf_token": admin.csrf_token or admin.page("/webhooks/new").csrf_token, "url": url,
        "description": "ERP", "event_types": list(events)})
    assert response.status_code == 200, response.text
    page = Page.of(response)
    endpoint_id = re.search(r'href="/webhooks/([0-9a-f-]{36})"', page.html).group(1)
    return endpoint_id, SECRET.search(page.html).group(0)


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(app, desk, actors, admin, receiver):
    assert admin.page("/webhooks").shows("There is no webhook endpoint yet.")
    form = admin.page("/webhooks/new")
    assert form.shows("An order was placed.") and form.shows("(order.created)")
    endpoint_id, secret = add_by_form(admin, receiver.url, ("order.created", "order.cancelled"))
    answer = actors(Role.admin_agent).get(f"/v1/webhooks/{endpoint_id}").json()
    assert answer["eventTypes"] == ["order.created", "order.cancelled"] and answer["active"] is True

    # Shown once: neither the list nor the endpoint's page holds it again.
    assert secret not in admin.get("/webhooks").text
    assert secret not in admin.get(f"/webhooks/{endpoint_id}").text
    # The secret shown is the one that signs: a receiver verifies a delivery with it.
    publish(desk, partner_id_of(desk, actors(Role.admin_agent)))
    assert deliver_due(desk) == 1
    request = receiver.requests[0]
    signing.verify(secret, request.headers, request.body, now=desk.clock.now())


def test_a_refused_endpoint_names_each_field_and_keeps_what_was_typed(admin):
    response = admin.post("/webhooks/new", {"url": "ftp://example.com/hook", "description": "Mon ERP"})
    page = Page.of(response)
    assert page.status_code == 400
    assert page.field_errors == {"event_types": "Choose at least one event."}
    assert page.shows("Events to send: choose at least one event.")
    assert 'value="ftp://example.com/hook"' in page.html and 'value="Mon ERP"' in page.html

    response = admin.client.post("/webhooks/new", headers=admin.headers, data={
        "csrf_token": admin.csrf_token, "url": "ftp://example.com/hook", "event_types": ["order.created"]})
    page = Page.of(response)
    assert page.status_code == 400
    assert page.field_errors == {"url": "Enter an address such as https://example.com/webhooks."}
    assert re.search(r'value="order.created"\s+checked', page.html)  # the choice is kept
    assert admin.page("/webhooks").shows("There is no webhook endpoint yet.")


@pytest.mark.both_engines
def test_deliveries_show_each_attempt_as_the_api_does_and_a_failed_one_is_sent_again(app, desk, actors, admin,
                                                                                      receiver):
    caller = actors(Role.admin_agent)
    endpoint = create_endpoint(caller, receiver.url)
    receiver.default = 503
    publish(desk, partner_id_of(desk, caller))
    deliver_due(desk)
    api_attempt = caller.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"][0]["attempts"][0]
    page = admin.page(f"/webhooks/{endpoint['id']}")
    assert page.shows(api_attempt["error"])  # "HTTP 503", word for word
    assert page.shows("Being sent") and page.shows("Next attempt:")
    assert page.shows("1 delivery")

    # Paused: what was waiting is not sent; resumed, it can be sent again from the page.
    assert admin.post(f"/webhooks/{endpoint['id']}/active", {"active": "false"}).status_code == 303
    paused = admin.page(f"/webhooks/{endpoint['id']}")
    assert paused.shows("Paused: no event is sent to it") and paused.shows("Not sent")
    assert caller.get(f"/v1/webhooks/{endpoint['id']}").json()["active"] is False
    assert "/retry" not in paused.html  # nothing is sent to a paused endpoint
    admin.post(f"/webhooks/{endpoint['id']}/active", {"active": "true"})
    resumed = admin.page(f"/webhooks/{endpoint['id']}?status=cancelled")
    retry = re.search(r'action="(/webhooks/[^"]+/retry)"', resumed.html).group(1)
    receiver.default = 200
    response = admin.post(retry, {})
    assert response.status_code == 303
    assert admin.follow(response).shows("The delivery will be sent again.")
    deliver_due(desk)
    delivered = admin.page(f"/webhooks/{endpoint['id']}?status=delivered")
    assert delivered.shows("Delivered") and delivered.shows("HTTP 200")
    assert "/retry" not in delivered.html
    assert admin.page(f"/webhooks/{endpoint['id']}?status=failed").shows("No delivery has this status.")


def test_a_failure_without_an_answer_is_shown_in_the_apis_words(desk, actors, admin):
    caller = actors(Role.admin_agent)
    closed = Receiver().start()
    url = closed.url
    closed.stop()  # nothing listens there any more: the connection is refused
    endpoint = create_endpoint(caller, url)
    admin.post(f"/webhooks/{endpoint['id']}/test", {})
    deliver_due(desk)
    error = caller.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"][0]["attempts"][0]["error"]
    assert error.startswith("request failed:")
    page = admin.page(f"/webhooks/{endpoint['id']}")
    assert page.shows(error)
    assert page.shows("A test ping.")


def test_a_new_secret_is_shown_once_and_the_endpoint_is_deleted_after_confirming(actors, admin, receiver):
    caller = actors(Role.admin_agent)
    endpoint = create_endpoint(caller, receiver.url)
    page = Page.of(admin.post(f"/webhooks/{endpoint['id']}/rotate-secret", {}))
    assert page.status_code == 200
    assert SECRET.search(page.html) and page.shows("The old one keeps signing for 24 hours")

    confirm = admin.page(f"/webhooks/{endpoint['id']}/delete")
    assert confirm.shows("This cannot be undone")
    assert caller.get(f"/v1/webhooks/{endpoint['id']}").status_code == 200  # asking is not deleting
    response = admin.post(f"/webhooks/{endpoint['id']}/delete", {})
    assert response.status_code == 303
    assert admin.follow(response).shows(f"The endpoint {receiver.url} was deleted.")
    assert caller.get(f"/v1/webhooks/{endpoint['id']}").status_code == 404
    assert admin.get(f"/webhooks/{endpoint['id']}").status_code == 404


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_admin_agents_open_the_webhook_pages(app, desk, actors, receiver, role):
    endpoint = create_endpoint(actors(Role.admin_agent), receiver.url)
    browser = signed_in(app, desk, role)
    for path in ("/webhooks", "/webhooks/new", f"/webhooks/{endpoint['id']}", f"/webhooks/{endpoint['id']}/delete"):
        assert browser.get(path).status_code == 403, path
    for path in ("/webhooks/new", f"/webhooks/{endpoint['id']}/active", f"/webhooks/{endpoint['id']}/delete",
                 f"/webhooks/{endpoint['id']}/rotate-secret", f"/webhooks/{endpoint['id']}/test"):
        assert browser.post(path, {"active": "false", "url": receiver.url}).status_code == 403, path
    assert 'href="/webhooks"' not in browser.page("/").html
    assert actors(Role.admin_agent).get(f"/v1/webhooks/{endpoint['id']}").json()["active"] is True


def test_another_partners_endpoint_is_not_found(desk, actors, admin, receiver):
    rival = actors(Role.admin_agent, "Rival")
    endpoint = create_endpoint(rival, receiver.url)
    receiver.default = 500
    publish(desk, partner_id_of(desk, rival))
    deliver_due(desk)
    delivery_id = rival.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["items"][0]["id"]
    assert admin.get(f"/webhooks/{endpoint['id']}").status_code == 404
    assert admin.get(f"/webhooks/{endpoint['id']}/delete").status_code == 404
    for path in (f"/webhooks/{endpoint['id']}/active", f"/webhooks/{endpoint['id']}/delete",
                 f"/webhooks/{endpoint['id']}/rotate-secret", f"/webhooks/{endpoint['id']}/test",
                 f"/webhooks/{endpoint['id']}/deliveries/{delivery_id}/retry"):
        assert admin.post(path, {"active": "false"}).status_code == 404, path
    assert rival.get(f"/v1/webhooks/{endpoint['id']}").json()["active"] is True
    assert receiver.url not in admin.get("/webhooks").text


def test_the_pages_in_french(actors, app, desk, receiver):
    endpoint = create_endpoint(actors(Role.admin_agent), receiver.url)
    browser = signed_in(app, desk, Role.admin_agent, accept_language="fr")
    listing = browser.page("/webhooks")
    assert listing.shows("Ajouter un point de terminaison") and listing.shows("Actif")
    page = browser.page(f"/webhooks/{endpoint['id']}")
    assert page.shows("Une commande a été passée.") and page.shows("Suspendre")
    refused = Page.of(browser.post("/webhooks/new", {"url": ""}))
    assert refused.field_errors == {"url": "Remplissez ce champ.", "event_types": "Choisissez au moins un événement."}
