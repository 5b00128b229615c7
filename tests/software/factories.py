"""Test data for keys and downloads: key pools, installation files, and a software purchase to ask for."""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field

from partnerdesk.accounts.models import Role
from partnerdesk.core.desk import Desk
from partnerdesk.software import service
from partnerdesk.software.storage import open_storage
from tests.orders.factories import OFFICE_FR, SOFTWARE_PRODUCT, Shop, software_line
from tests.support.actors import Actors, Caller

OFFICE_SKU = "0001"
# What tests.orders.factories' Office SKU offers (rule R3's choices).
CHOICE = {"version": "2024", "language": "fr", "fileType": "ISO"}
KEY_ALPHABET = string.ascii_uppercase + string.digits
MAX_CART_LINES = 50


def make_keys(count: int, seed: int = 1) -> list[str]:
    """Distinct, well-formed product keys, the same for the same seed."""
    rng = random.Random(seed)
    keys: set[str] = set()
    while len(keys) < count:
        keys.add("-".join("".join(rng.choice(KEY_ALPHABET) for _ in range(5)) for _ in range(5)))
    return sorted(keys)


def import_keys(desk: Desk, keys: list[str], *, sku_id: str = OFFICE_SKU, version: str = "") -> None:
    with desk.database.session() as db:
        service.import_keys(db, desk.keyring, product_id=SOFTWARE_PRODUCT, sku_id=sku_id, version=version,
                            lines=keys, principal=None, now=desk.clock.now())


def file_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def add_file(desk: Desk, content: bytes, *, name: str = "office-2024-fr.iso", version: str = "2024",
             language: str = "fr", file_type: str = "ISO") -> str:
    new = service.NewFile(product_id=SOFTWARE_PRODUCT, sku_id=OFFICE_SKU, version=version, language=language,
                          file_type=file_type, file_name=name)
    chunks = [content[i:i + 65536] for i in range(0, len(content), 65536)]
    row = service.add_file(desk.database, open_storage(desk.settings), new, chunks, actor="test", principal=None,
                           now=desk.clock.now())
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    return row.id


@dataclass
class SoftwareShop:
    """A catalog with an Office SKU, a key pool, one stored file, and a customer to buy for."""

    shop: Shop
    actors: Actors
    desk: Desk
    content: bytes
    customer_id: str = ""
    purchases: list[str] = field(default_factory=list)

    @property
    def admin(self) -> Caller:
        return self.actors(Role.admin_agent)

    def buy(self, quantity: int = 1, *, customer_id: str | None = None) -> str:
        """Buys Office for the customer as the partner's sales agent; returns the software id."""
        customer_id = customer_id or self.customer_id
        placed = self.shop.buy(customer_id, software_line(OFFICE_FR, quantity=quantity))
        order = placed["orders"][0]
        software = self.admin.get(f"/v1/customers/{customer_id}/software").json()["items"]
        found = [item["id"] for item in software if item["orderId"] == order["id"]]
        assert len(found) == 1, software
        return found[0]

    def buy_many(self, count: int) -> list[str]:
        """`count` purchases of one unit each (one order line each, carts of up to 50 lines)."""
        bought: list[str] = []
        for first in range(0, count, MAX_CART_LINES):
            lines = [software_line(OFFICE_FR, line_id=number) for number in range(min(MAX_CART_LINES, count - first))]
            order = self.shop.buy(self.customer_id, *lines)["orders"][0]
            items = self.admin.get(f"/v1/customers/{self.customer_id}/software").json()["items"]
            bought.extend(item["id"] for item in items if item["orderId"] == order["id"])
        assert len(bought) == count
        return bought

    def item(self, software_id: str) -> dict:
        response = self.admin.get(f"/v1/customers/{self.customer_id}/software/{software_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def cancel(self, software_id: str):
        """Cancels the purchase's order line as the partner's admin agent (rule R5)."""
        item = self.item(software_id)
        return self.admin.patch(f"/v1/customers/{self.customer_id}/orders/{item['orderId']}",
                                json={"status": "cancelled", "lineItems": [{"lineItemNumber": item["lineItemNumber"]}]})

    def download(self, path: str, method: str = "GET", **headers: str):
        """Fetches a link as the customer does: no login (`if_none_match="..."` sends If-None-Match)."""
        return self.actors.client.request(method, path,
                                          headers={name.replace("_", "-"): value for name, value in headers.items()})

    def keys_and_downloads(self, software_id: str, caller: Caller | None = None, **choice: str):
        return (caller or self.admin).post(
            f"/v1/customers/{self.customer_id}/software/{software_id}/keysanddownloads", json={**CHOICE, **choice})

    def link(self, software_id: str | None = None) -> str:
        """A fresh download link's path (`/v1/downloads/<token>`) for a new or given purchase."""
        software_id = software_id or self.buy()
        answer = self.keys_and_downloads(software_id)
        assert answer.status_code == 200, answer.text
        uri = answer.json()["downloads"][0]["uri"]
        return uri.removeprefix(self.desk.settings.public_base_url)
