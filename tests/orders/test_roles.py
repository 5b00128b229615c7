"""Who may call each purchase, Azure subscription and billing route, and that partners never see each other's."""

from __future__ import annotations

import pytest

from partnerdesk.accounts.auth import role_matrix
from partnerdesk.accounts.models import Role
from tests.orders.factories import ri_line, software_line

OP, A, S, H, B = Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent, Role.billing_admin
BUYERS = {A, S}
PURCHASE_READERS = {OP, A, S, H}
INVOICE_READERS = {B, OP}

# (method, path, roles admitted): every route of the orders, reservations and billing domains.
MATRIX = [
    ("POST", "/v1/customers/{customerId}/carts", BUYERS),
    ("GET", "/v1/customers/{customerId}/carts/{cartId}", {OP, A, S}),
    ("PUT", "/v1/customers/{customerId}/carts/{cartId}", BUYERS),
    ("POST", "/v1/customers/{customerId}/carts/{cartId}/checkout", BUYERS),
    ("GET", "/v1/customers/{customerId}/orders", PURCHASE_READERS),
    ("GET", "/v1/customers/{customerId}/orders/{orderId}", PURCHASE_READERS),
    ("GET", "/v1/customers/{customerId}/subscriptions", PURCHASE_READERS),
    ("GET", "/v1/customers/{customerId}/subscriptions/{subscriptionId}", PURCHASE_READERS),
    ("GET", "/v1/customers/{customerId}/entitlements", PURCHASE_READERS),
    ("POST", "/v1/customers/{customerId}/subscriptions/azureplan", BUYERS),
    ("GET", "/v1/customers/{customerId}/subscriptions/azureplan", PURCHASE_READERS),
    ("POST", "/v1/customers/{customerId}/subscriptions/{subscriptionId}/registrations", BUYERS),
    ("GET", "/v1/customers/{customerId}/subscriptions/{subscriptionId}/registrationstatus", PURCHASE_READERS),
    ("GET", "/v1/invoices", INVOICE_READERS),
    ("GET", "/v1/invoices/{invoiceId}", INVOICE_READERS),
    ("GET", "/v1/invoices/{invoiceId}/lineitems", INVOICE_READERS),
    ("POST", "/v1/invoices/{invoiceId}/payments", {OP}),
    ("GET", "/v1/profiles/billing", INVOICE_READERS),
    ("PUT", "/v1/profiles/billing", {B}),
    ("PUT", "/v1/partners/{partnerId}/creditlimits/{currency}", {OP}),
    ("DELETE", "/v1/partners/{partnerId}/creditlimits/{currency}", {OP}),
]


def test_the_declared_matrix_is_the_apps(app):
    # None is a public route (a download link): no role is declared for it.
    declared = {(method, path): set(roles or ()) for method, path, roles in role_matrix(app)}
    for method, path, roles in MATRIX:
        assert declared[(method, path)] == roles, (method, path)


@pytest.fixture
def purchase(shop, desk):
    """One bought cart with its ids, plus a fresh open cart, for filling paths in."""
    customer = shop.customer("FR")
    azure = shop.azure_subscription(customer)
    bought = shop.buy(customer, software_line(), ri_line(line_id=1))["orders"][0]
    open_cart = shop.cart(customer, software_line()).json()["id"]
    from partnerdesk.billing.models import Invoice

    with desk.database.session(write=False) as db:
        invoice = db.query(Invoice).one()
    return {"customerId": customer, "cartId": open_cart, "orderId": bought["id"],
            "subscriptionId": bought["lineItems"][0]["subscriptionId"], "invoiceId": invoice.id,
            "partnerId": invoice.partner_id, "currency": "EUR", "azure": azure}


def _body(method: str, path: str):
    if path.endswith("/carts") or (method == "PUT" and "/carts/" in path):
        return {"lineItems": [software_line()]}
    if path.endswith("/creditlimits/{currency}") and method == "PUT":
        return {"amount": "100000.00"}
    if path == "/v1/profiles/billing" and method == "PUT":
        return {"companyName": "Contoso Reseller SAS", "email": "billing@contoso.example"}
    if path.endswith("/azureplan") and method == "POST":
        return {"friendlyName": "dev"}
    return None


@pytest.mark.parametrize("role", list(Role))
def test_every_route_admits_exactly_its_roles(actors, purchase, role):
    caller = actors(role)
    for method, path, roles in MATRIX:
        ids = dict(purchase)
        if "registration" in path:
            ids["subscriptionId"] = purchase["azure"]
        url = path.format(**ids)
        if role is OP and path == "/v1/profiles/billing":
            url += f"?partnerId={purchase['partnerId']}"
        response = caller.request(method, url, json=_body(method, path))
        if role in roles:
            # Admitted: it may still be refused by a rule (paying an open invoice is 409), never by role.
            assert response.status_code < 400 or (response.status_code == 409 and "payments" in path), \
                (method, path, role, response.text)
        else:
            assert response.status_code == 403, (method, path, role, response.text)
            assert response.json()["code"] == 1101


@pytest.mark.parametrize("role", [A, S, H, B])
def test_another_partner_sees_none_of_it(actors, purchase, role):
    rival = actors(role, partner="Rival Reseller")
    for method, path, roles in MATRIX:
        if role not in roles or "{" not in path or "/partners/" in path:
            continue
        ids = dict(purchase)
        if "registration" in path:
            ids["subscriptionId"] = purchase["azure"]
        response = rival.request(method, path.format(**ids), json=_body(method, path))
        assert response.status_code == 404, (method, path, role, response.text)
    if role is B:
        assert rival.get("/v1/invoices").json()["totalCount"] == 0
        assert rival.get(f"/v1/profiles/billing?partnerId={purchase['partnerId']}").status_code == 404


def test_the_operator_reads_but_does_not_buy(actors, purchase):
    operator = actors(OP)
    customer = purchase["customerId"]
    assert operator.get(f"/v1/customers/{customer}/orders/{purchase['orderId']}").status_code == 200
    assert operator.post(f"/v1/customers/{customer}/carts", json={"lineItems": [software_line()]}).status_code == 403
    assert operator.get(f"/v1/invoices?partnerId={purchase['partnerId']}").json()["totalCount"] == 1


@pytest.mark.parametrize("role", [OP, H, B])
def test_a_refused_role_learns_nothing_from_a_bad_cart_body(actors, purchase, role):
    """The hot routes read their body inside the write unit: the role is still checked first."""
    caller = actors(role)
    customer, cart = purchase["customerId"], purchase["cartId"]
    for body in ({"lineItems": "not a list"}, {"lineItems": [{"catalogItemId": "nonsense", "quantity": -1}]}):
        response = caller.post(f"/v1/customers/{customer}/carts", json=body)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == 1101
    assert caller.post(f"/v1/customers/{customer}/carts/{cart}/checkout").status_code == 403
    anonymous = actors.client.post(f"/v1/customers/{customer}/carts", json={"lineItems": "not a list"})
    assert anonymous.status_code == 401
    # And the cart is still open for a buyer.
    assert actors(S).post(f"/v1/customers/{customer}/carts/{cart}/checkout").status_code == 201
