"""Rule R5 for software: cancelling a purchase revokes its keys (shown as revoked, last five characters only,
never issued again) and ends every link of it at once; its other purchases are untouched."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.software.models import DownloadLink
from tests.orders.factories import OFFICE_FR, software_line
from tests.software.factories import CHOICE, make_keys
from tests.software.test_keys_and_downloads import pool

# Cancelling is a transaction over orders, billing, keys and links: both engines.
pytestmark = pytest.mark.both_engines

HTML = {"accept": "text/html"}


def links_made(desk) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(DownloadLink))


def test_cancelling_revokes_the_keys_and_every_link_of_the_purchase_at_once(software):
    software_id = software.buy(quantity=2)
    shown = software.keys_and_downloads(software_id).json()
    keys = [key["key"] for key in shown["productKeys"]]
    older = shown["downloads"][0]["uri"].removeprefix("http://testserver")
    newer = software.link(software_id)
    assert software.download(older).status_code == 200

    cancelled = software.cancel(software_id)

    assert cancelled.status_code == 200, cancelled.text
    for link in (older, newer):
        gone = software.download(link)
        assert gone.status_code == 410 and gone.json()["data"] == ["revoked"]
        assert "because the purchase was cancelled" in gone.json()["description"]
        assert software.download(link, range="bytes=100-").status_code == 410
        assert software.download(link, "HEAD").status_code == 410
        page = software.download(link, **HTML)
        assert page.status_code == 410 and "révoqué car l&#x27;achat a été annulé" in page.text
    assert software.item(software_id)["status"] == "revoked"
    assert pool(software.actors) == {"available": 8, "issued": 0, "revoked": 2}

    made = links_made(software.desk)
    again = software.keys_and_downloads(software_id)

    assert again.status_code == 200, again.text
    body = again.json()
    assert body["productKeys"] == [{"key": f"*****-*****-*****-*****-{key[-5:]}", "status": "revoked"} for key in keys]
    assert body["downloads"] == [] and links_made(software.desk) == made  # no new link
    for key in keys:
        assert key not in again.text


def test_revoked_keys_are_never_issued_again(software):
    cancelled = software.buy(quantity=3)
    revoked = {key["key"] for key in software.keys_and_downloads(cancelled).json()["productKeys"]}
    assert software.cancel(cancelled).status_code == 200

    issued = {software.keys_and_downloads(software_id).json()["productKeys"][0]["key"]
              for software_id in software.buy_many(7)}

    assert len(issued) == 7 and not issued & revoked
    assert issued | revoked == set(make_keys(10))
    assert software.keys_and_downloads(software.buy()).status_code == 409  # the revoked three stay out


def test_a_purchase_cancelled_before_its_keys_were_shown_gets_none(software):
    software_id = software.buy()
    assert software.cancel(software_id).status_code == 200

    refused = software.keys_and_downloads(software_id)

    assert refused.status_code == 409 and refused.json()["code"] == 6003
    assert pool(software.actors) == {"available": 10, "issued": 0, "revoked": 0}
    assert links_made(software.desk) == 0


def test_cancelling_one_line_leaves_the_other_lines_keys_and_links_working(software):
    order = software.shop.buy(software.customer_id, software_line(OFFICE_FR, line_id=0),
                              software_line(OFFICE_FR, line_id=1))["orders"][0]
    items = software.admin.get(f"/v1/customers/{software.customer_id}/software").json()["items"]
    by_line = {item["lineItemNumber"]: item["id"] for item in items if item["orderId"] == order["id"]}
    kept_keys = software.keys_and_downloads(by_line[1]).json()["productKeys"]
    kept_link, lost_link = software.link(by_line[1]), software.link(by_line[0])

    assert software.cancel(by_line[0]).status_code == 200

    assert software.download(lost_link).status_code == 410
    assert software.download(kept_link).status_code == 200
    assert software.keys_and_downloads(by_line[1]).json()["productKeys"] == kept_keys
    assert software.item(by_line[1])["status"] == "active"


def test_only_an_admin_agent_can_cancel_and_a_refused_cancel_leaves_the_links_working(software, actors):
    software_id = software.buy()
    link = software.link(software_id)
    item = software.item(software_id)

    refused = actors(Role.sales_agent).patch(
        f"/v1/customers/{software.customer_id}/orders/{item['orderId']}",
        json={"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]})

    assert refused.status_code == 403
    assert software.download(link).status_code == 200
    assert software.keys_and_downloads(software_id, **CHOICE).json()["productKeys"][0]["status"] == "issued"
