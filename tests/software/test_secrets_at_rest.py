"""Keys and link tokens are never in the database in the clear: keys encrypted, tokens hashed, and the
keys-and-downloads answer (which holds both) deliberately not kept for MS-RequestId replays."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from partnerdesk.accounts.models import Role
from partnerdesk.core.idempotency import IdempotencyRecord
from partnerdesk.core.secrets import hash_token
from partnerdesk.software.models import DownloadLink
from tests.orders.factories import OFFICE_FR, SOFTWARE_PRODUCT, software_line
from tests.software.factories import OFFICE_SKU, make_keys

# Column types and how each engine stores text differ (JSON, BYTEA, TEXT): both engines.
pytestmark = pytest.mark.both_engines

ANY_KEY = re.compile(r"[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4}")


def every_stored_value(desk) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every value of every row of every table."""
    metadata = MetaData()
    metadata.reflect(bind=desk.database.engine)
    found = []
    with desk.database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is not None:
                        text = value.decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                        found.append((table.name, column, text))
    return found


def walk_through(software, actors) -> tuple[list[str], list[str]]:
    """Everything that touches keys and links, through the API: import, reveal (retried with one request
    id), download, cancel, reveal the revoked keys. Returns the keys and the link tokens that were shown."""
    extra = make_keys(3, seed=4)
    imported = actors(Role.operator).post(f"/v1/software/keypools/{SOFTWARE_PRODUCT}/{OFFICE_SKU}",
                                          json={"keys": extra}, request_id=str(uuid.uuid4()))
    assert imported.status_code == 201, imported.text
    # A checkout retried by request id keeps its answer: the table is not empty when it is searched.
    cart = software.shop.cart(software.customer_id, software_line(OFFICE_FR, quantity=2)).json()
    placed = software.shop.checkout(software.customer_id, cart["id"], request_id=str(uuid.uuid4()))
    order_id = placed.json()["orders"][0]["id"]
    [software_id] = [item["id"] for item in software.admin.get(f"/v1/customers/{software.customer_id}/software")
                     .json()["items"] if item["orderId"] == order_id]
    request_id = str(uuid.uuid4())
    first = software.admin.post(f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                                json={"version": "2024", "language": "fr", "fileType": "ISO"}, request_id=request_id)
    retried = software.admin.post(f"/v1/customers/{software.customer_id}/software/{software_id}/keysanddownloads",
                                  json={"version": "2024", "language": "fr", "fileType": "ISO"},
                                  request_id=request_id)
    assert first.status_code == retried.status_code == 200
    assert retried.headers["ms-requestid"] == request_id
    answers = [first.json(), retried.json()]
    for answer in answers:
        software.download(answer["downloads"][0]["uri"].removeprefix("http://testserver"))
    assert software.cancel(software_id).status_code == 200
    assert software.keys_and_downloads(software_id).status_code == 200
    keys = sorted({key["key"] for answer in answers for key in answer["productKeys"]})
    tokens = [answer["downloads"][0]["uri"].rsplit("/", 1)[1] for answer in answers]
    return [*keys, *extra, *make_keys(10)], tokens


def test_a_retried_request_shows_the_same_keys_with_a_new_link_and_keeps_no_answer(software, actors):
    keys, tokens = walk_through(software, actors)

    assert len(set(tokens)) == 2  # not replayed: the retry made a link of its own
    with software.desk.database.session(write=False) as db:
        kept = db.scalars(select(IdempotencyRecord)).all()
        stored_hashes = set(db.scalars(select(DownloadLink.token_hash)))
    assert kept and not [record for record in kept if "keysanddownloads" in record.operation]
    assert {hash_token(token) for token in tokens} <= stored_hashes  # the tokens, as SHA-256 only
    for record in kept:
        for secret in [*keys, *tokens]:
            assert secret not in str(record.response_body)


def test_no_key_and_no_token_is_in_any_column_of_any_table(software, actors):
    keys, tokens = walk_through(software, actors)

    values = every_stored_value(software.desk)

    searched = {table for table, _column, _value in values}
    assert searched >= {"product_keys", "download_links", "activity_log", "idempotency_records"}
    leaks = [(table, column) for table, column, value in values
             if ANY_KEY.search(value) or any(token in value for token in tokens)]
    assert leaks == []
    for secret in [*keys, *tokens]:
        assert not any(secret in value for _table, _column, value in values)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_sqlite_file_holds_no_key_and_no_token_in_any_page(software, actors):
    keys, tokens = walk_through(software, actors)
    software.desk.database.dispose()  # so the write-ahead log is in the file for good

    database_file = Path(software.desk.settings.database_url.removeprefix("sqlite:///"))
    raw = b"".join(path.read_bytes() for path in database_file.parent.glob(f"{database_file.name}*"))

    assert raw  # the database and its write-ahead log were read
    for secret in [*keys, *tokens]:
        assert secret.encode() not in raw
