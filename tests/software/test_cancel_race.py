"""Rule R5 against rule R3 at the same instant: a purchase cancelled while its keys and links are being
issued ends with every key revoked and every link dead, whichever of the two came first."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.orders.factories import OFFICE_FR, software_line
from tests.software.factories import CHOICE, import_keys, make_keys
from tests.software.test_keys_and_downloads import pool

PURCHASES = 40


def test_keys_and_links_issued_while_the_purchase_is_cancelled_end_revoked(software, live_server):
    for _ in range(PURCHASES):  # one order each, so the cancellations do not queue behind one order's lock
        software.shop.buy(software.customer_id, software_line(OFFICE_FR))
    items = software.admin.get(f"/v1/customers/{software.customer_id}/software").json()["items"]
    purchases = {item["id"]: item["orderId"] for item in items}
    assert len(purchases) == PURCHASES
    import_keys(software.desk, make_keys(PURCHASES - 10, seed=5))
    start = threading.Barrier(2 * PURCHASES)
    base = f"/v1/customers/{software.customer_id}"

    def reveal(client: httpx.Client, software_id: str) -> httpx.Response:
        start.wait()
        return client.post(f"{base}/software/{software_id}/keysanddownloads", json=CHOICE)

    def cancel(client: httpx.Client, order_id: str) -> httpx.Response:
        start.wait()
        return client.patch(f"{base}/orders/{order_id}",
                            json={"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]})

    with httpx.Client(base_url=live_server, headers=software.admin.headers(), timeout=120,
                      limits=httpx.Limits(max_connections=2 * PURCHASES)) as client, \
            ThreadPoolExecutor(max_workers=2 * PURCHASES) as workers:
        reveals = {software_id: workers.submit(reveal, client, software_id) for software_id in purchases}
        cancels = [workers.submit(cancel, client, order_id) for order_id in purchases.values()]
        reveals = {software_id: future.result() for software_id, future in reveals.items()}
        assert [future.result().status_code for future in cancels] == [200] * PURCHASES

    links = []
    for answer in reveals.values():
        assert answer.status_code in (200, 409), answer.text
        if answer.status_code == 200:
            links += [download["uri"].removeprefix("http://testserver") for download in answer.json()["downloads"]]
    assert links, "no reveal came before its cancellation: the race was not run"
    assert [software.download(link).status_code for link in links] == [410] * len(links)
    counts = pool(software.actors)
    assert counts["issued"] == 0 and counts["revoked"] == len(links)
    for software_id in purchases:
        again = software.keys_and_downloads(software_id)
        assert again.status_code in (200, 409)
        if again.status_code == 200:
            assert {key["status"] for key in again.json()["productKeys"]} == {"revoked"}
