"""Azure plan subscriptions of customers and their registration for Reserved Instances (Partner Center shapes)."""

from __future__ import annotations

from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.customers.models import Customer
from partnerdesk.demo import load_demo
from partnerdesk.reservations.models import AzureSubscription


def test_create_list_and_register_an_azure_plan_subscription(shop, actors):
    customer = shop.customer("FR")
    created = shop.buyer.post(f"/v1/customers/{customer}/subscriptions/azureplan", json={"friendlyName": "Prod"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["offerId"], body["offerName"], body["billingType"], body["status"]) == \
        ("DZH318Z0BPS6:0001", "Azure plan", "usage", "active")
    assert body["friendlyName"] == "Prod" and body["registrationStatus"] == "NotRegistered"
    subscription = body["id"]
    path = f"/v1/customers/{customer}/subscriptions/{subscription}"
    status = actors(Role.helpdesk_agent).get(f"{path}/registrationstatus")
    assert status.json() == {"subscriptionId": subscription, "status": "NotRegistered",
                             "attributes": {"objectType": "SubscriptionRegistrationStatus"}}
    registered = shop.buyer.post(f"{path}/registrations")
    assert registered.status_code == 202
    assert registered.headers["Location"] == f"{path}/registrationstatus"
    assert shop.buyer.get(f"{path}/registrationstatus").json()["status"] == "Registered"
    assert shop.buyer.post(f"{path}/registrations").status_code == 202  # again: no change
    listed = shop.buyer.get(f"/v1/customers/{customer}/subscriptions/azureplan").json()
    assert listed["totalCount"] == 1 and listed["items"][0]["registrationStatus"] == "Registered"
    default_name = shop.buyer.post(f"/v1/customers/{customer}/subscriptions/azureplan")
    assert default_name.status_code == 201 and default_name.json()["friendlyName"].startswith("Azure subscription of")


def test_unknown_or_foreign_azure_subscriptions_are_404(shop, actors):
    customer, other = shop.customer("FR"), shop.customer("FR")
    theirs = shop.azure_subscription(other)
    response = shop.buyer.post(f"/v1/customers/{customer}/subscriptions/{theirs}/registrations")
    assert response.status_code == 404 and response.json()["code"] == 3500
    rival = actors(Role.admin_agent, partner="Rival Reseller")
    assert rival.get(f"/v1/customers/{other}/subscriptions/{theirs}/registrationstatus").status_code == 404
    assert rival.post(f"/v1/customers/{other}/subscriptions/azureplan").status_code == 404


def test_a_suspended_subscription_cannot_be_registered(shop, desk):
    customer = shop.customer("FR")
    subscription = shop.azure_subscription(customer, register=False)
    with desk.database.session() as db:
        db.get(AzureSubscription, subscription).status = "suspended"
    response = shop.buyer.post(f"/v1/customers/{customer}/subscriptions/{subscription}/registrations")
    assert response.status_code == 409 and response.json()["code"] == 3504


def test_the_demo_gives_every_demo_customer_a_registered_azure_subscription(desk):
    load_demo(desk)
    load_demo(desk)
    with desk.database.session(write=False) as db:
        customers = db.scalars(select(Customer.id)).all()
        subscriptions = db.scalars(select(AzureSubscription)).all()
    assert len(customers) == 7
    assert sorted(s.customer_id for s in subscriptions) == sorted(customers)
    assert {s.capacity_registration for s in subscriptions} == {"Registered"}


def test_the_azure_plan_offer_is_no_product_of_the_demo_catalog(desk, actors):
    """An Azure plan subscription's offerId is Partner Center's Azure plan; a client that looks it up in the
    catalog must not find a reservation under that id."""
    from partnerdesk.catalog.demo import PRODUCTS
    from partnerdesk.reservations.models import AZURE_PLAN_OFFER_ID

    load_demo(desk)
    plan_product = AZURE_PLAN_OFFER_ID.split(":")[0]
    assert plan_product not in {product.id for product in PRODUCTS}
    agent = actors(Role.sales_agent)
    sql = agent.get("/v1/products/DZH318Z0BQ4R?country=FR")
    assert sql.status_code == 200, sql.text
    assert sql.json()["productType"]["id"] == "Azure"
    assert agent.get(f"/v1/products/{plan_product}?country=FR").status_code == 404
