"""The product-page cache never serves a stale page: any write, by anyone, and the clock both end it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import delete, insert, update

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import repository
from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.core.db import unpooled_engine
from tests.catalog.factories import SOFTWARE_ID, START, build_catalog

LIST = "/v1/products?country=FR&targetView=Software"


def titles(caller) -> list[str]:
    return [item["title"] for item in caller.get(LIST).json()["items"]]


def test_writes_from_outside_the_app_are_seen_at_once(actors, desk, database_url):
    build_catalog(desk, markets=("FR",))
    sales = actors(Role.sales_agent)
    assert titles(sales) == ["Windows Server 2022"]
    # Another process writing straight to the database with Core statements, bypassing every service.
    engine = unpooled_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            insert(Product.__table__).values(
                id="OUTSIDE00001",
                title="Another Server",
                description="",
                product_type_id="Software",
                sub_type_id="Perpetual",
                publisher="",
                created_at=START,
                updated_at=START,
            )
        )
        connection.execute(
            insert(Sku.__table__).values(
                product_id="OUTSIDE00001",
                id="0001",
                title="Std",
                description="",
                unit_of_measure="",
                min_quantity=1,
                max_quantity=10,
                supported_billing_cycles=["one_time"],
                purchase_prerequisites=[],
                provisioning_variables=[],
                versions=[],
                languages=[],
                file_types=[],
                arm_sku_name="",
                instance_series="",
                regions=[],
                created_at=START,
                updated_at=START,
            )
        )
        connection.execute(
            insert(Availability.__table__).values(
                product_id="OUTSIDE00001",
                sku_id="0001",
                id="0001",
                country="FR",
                currency="EUR",
                segment="Commercial",
                billing_plan="one_time",
                unit_price=Decimal("1"),
                tags="",
                effective_start=START,
                updated_at=START,
            )
        )
    assert titles(sales) == ["Another Server", "Windows Server 2022"]
    with engine.begin() as connection:
        connection.execute(
            update(Product.__table__).where(Product.id == "OUTSIDE00001").values(title="Zeta Server")
        )
    assert titles(sales) == ["Windows Server 2022", "Zeta Server"]
    with engine.begin() as connection:
        connection.execute(delete(Availability.__table__).where(Availability.product_id == "OUTSIDE00001"))
    engine.dispose()
    assert titles(sales) == ["Windows Server 2022"]


def test_a_page_ends_when_a_price_of_its_market_starts_or_ends(actors, desk, clock):
    build_catalog(desk, markets=("FR",), start=START, end=clock.now() + timedelta(hours=1))
    operator, sales = actors(Role.operator), actors(Role.sales_agent)
    operator.post(
        f"/v1/products/{SOFTWARE_ID}/skus/0001/availabilities",
        json={
            "country": "FR",
            "currency": "EUR",
            "unitPrice": "1",
            "billingPlan": "one_time",
            "effectiveStartDate": (clock.now() + timedelta(hours=2)).isoformat(),
        },
    )
    assert titles(sales) == ["Windows Server 2022"]
    clock.advance(timedelta(minutes=59))
    assert titles(sales) == ["Windows Server 2022"]
    clock.advance(timedelta(minutes=1))
    assert titles(sales) == []
    clock.advance(timedelta(hours=1))
    assert titles(sales) == ["Windows Server 2022"]


def test_every_catalog_write_bumps_the_version(desk):
    with desk.database.session(write=False) as db:
        epoch, before = repository.catalog_stamp(db)
    build_catalog(desk, markets=("FR",))
    with desk.database.session(write=False) as db:
        same_epoch, after = repository.catalog_stamp(db)
    assert same_epoch == epoch and len(epoch) == 36 and after > before
