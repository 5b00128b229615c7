"""Partner Center's Python SDK (`partnercenterservices` from PyPI, unchanged) against a running Partner Desk.

The SDK (generated from Partner Center's swagger) covers customers, checkout, orders and subscriptions;
it has no call to create or change a cart nor for products or entitlements, so those are made over
plain HTTP in the .NET SDK's PascalCase, as that SDK sends them.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from microsoft.store.partnercenterservices import MicrosoftPartnerStoreApis
from microsoft.store.partnercenterservices.models import (
    MicrosoftPartnerSdkContractsV1Address as Address,
)
from microsoft.store.partnercenterservices.models import (
    MicrosoftPartnerSdkContractsV1Customer as Customer,
)
from microsoft.store.partnercenterservices.models import (
    MicrosoftPartnerSdkContractsV1CustomerBillingProfile as BillingProfile,
)
from microsoft.store.partnercenterservices.models import (
    MicrosoftPartnerSdkContractsV1CustomerCompanyProfile as CompanyProfile,
)
from msrest.authentication import BasicTokenAuthentication

from partnerdesk.accounts.models import Role
from tests.orders.factories import OFFICE_FR, VISIO_FR_ANNUAL, load_catalog

VERSION = "1"  # the SDK puts it in the path: /v1/...


def _ids() -> dict[str, str]:
    return {"ms_request_id": str(uuid.uuid4()), "ms_correlation_id": str(uuid.uuid4())}


@pytest.fixture
def sdk(live_server, desk, actors):
    load_catalog(desk)
    caller = actors.new(Role.admin_agent)
    client = MicrosoftPartnerStoreApis(BasicTokenAuthentication({"access_token": caller.token}),
                                       base_url=live_server)
    http = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {caller.token}"})
    yield client, http
    http.close()


def test_the_sdk_buys_for_a_new_customer_and_reads_it_all_back(sdk):
    client, http = sdk
    new = Customer(
        company_profile=CompanyProfile(domain=f"sdk{uuid.uuid4().hex[:8]}.onmicrosoft.com"),
        billing_profile=BillingProfile(
            culture="EN-US", email="someone@example.com", language="En", company_name="Wingtip Toys",
            default_address=Address(first_name="Gena", last_name="Soto", address_line1="1 rue de Rivoli",
                                    city="Paris", state="", country="FR", postal_code="75001",
                                    phone_number="0155550101"),
        ),
    )

    created = client.postvversioncustomers(new, VERSION, **_ids())

    assert created.id and created.company_profile.domain == new.company_profile.domain
    assert created.billing_profile.culture == "en-US" and created.billing_profile.language == "en"
    assert created.company_profile.company_name == "Wingtip Toys"
    read = client.getvversioncustomerscustomer.id(created.id, VERSION, **_ids())
    assert read.id == created.id

    # A cart as the .NET SDK sends it (PascalCase, its read-only fields echoed), then changed with PUT.
    cart = http.post(f"/v1/customers/{created.id}/carts", headers={"MS-RequestId": str(uuid.uuid4())}, json={
        "LineItems": [{"Id": 0, "CatalogItemId": OFFICE_FR, "Quantity": 2, "BillingCycle": "OneTime",
                       "ProvisioningContext": None, "Participants": [], "OrderGroup": None}],
        "Attributes": {"ObjectType": "Cart"}})
    assert cart.status_code == 201, cart.text
    changed = cart.json()
    changed["lineItems"][0]["quantity"] = 3
    changed["lineItems"].append({"id": 1, "catalogItemId": VISIO_FR_ANNUAL, "quantity": 4,
                                 "billingCycle": "annual", "termDuration": "P1Y"})
    updated = http.put(f"/v1/customers/{created.id}/carts/{changed['id']}", json=changed)
    assert updated.status_code == 200, updated.text
    assert "Partner-Desk-Ignored-Fields" not in updated.headers

    result = client.postvversioncustomerscustomer.idcheckout(created.id, changed["id"], VERSION, **_ids())

    assert result.order_errors == []
    assert sorted((order.billing_cycle, [line.quantity for line in order.line_items]) for order in result.orders) \
        == [("annual", [4]), ("one_time", [3])]
    orders = client.getvversioncustomerscustomer.value7(created.id, VERSION, **_ids())
    assert orders.total_count == 2
    order = client.getvversioncustomerscustomer.id5(created.id, result.orders[0].id, VERSION, **_ids())
    assert order.id == result.orders[0].id and order.reference_customer_id == created.id

    subscriptions = client.getvversioncustomerscustomer.value9(created.id, VERSION, **_ids())
    assert subscriptions.total_count == 2
    one = client.getvversioncustomerscustomer.id6(created.id, subscriptions.items[0].id, VERSION, **_ids())
    assert one.id == subscriptions.items[0].id and one.quantity in (3, 4)

    entitlements = http.get(f"/v1/customers/{created.id}/entitlements", params={"entitlementtype": "software"})
    assert entitlements.status_code == 200 and entitlements.json()["totalCount"] == 2


def test_the_sdk_sees_a_refusal_in_partner_centers_error_shape(sdk):
    client, _http = sdk
    raw = client.getvversioncustomerscustomer.id(str(uuid.uuid4()), VERSION, raw=True, **_ids())
    assert raw.response.status_code == 404
    assert set(raw.response.json()) == {"code", "description", "data", "source"}
