"""The demo catalog: what the issue asks for, loaded twice without change, and R1 doing the hiding."""

from __future__ import annotations

from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.demo import load_demo


def test_the_demo_catalog_is_complete_and_idempotent(desk, actors):
    load_demo(desk)
    with desk.database.session(write=False) as db:
        counts = [
            db.scalar(select(func.count()).select_from(model)) for model in (Product, Sku, Availability)
        ]
    load_demo(desk)
    with desk.database.session(write=False) as db:
        assert [
            db.scalar(select(func.count()).select_from(model)) for model in (Product, Sku, Availability)
        ] == counts
        titles = set(db.scalars(select(Sku.title)))
        markets = set(db.scalars(select(Availability.country)))
        reserved_markets = set(
            db.scalars(
                select(Availability.country)
                .join(Product, Product.id == Availability.product_id)
                .where(Product.product_type_id == "Azure")
            )
        )
        windows = db.get(Sku, ("DG7GMGF0DVT5", "0002"))
    for edition in (
        "Windows Server 2019 Standard",
        "Windows Server 2019 Datacenter",
        "Windows Server 2022 Standard",
        "Windows Server 2022 Datacenter",
        "SQL Server 2019 Standard",
        "SQL Server 2019 Enterprise",
        "SQL Server 2022 Standard",
        "SQL Server 2022 Enterprise",
    ):
        assert any(title.startswith(edition) for title in titles), edition
    assert {"D2s v5", "D4s v5", "E8s v5"} <= titles
    assert {"FR", "US", "DE", "GB", "BR", "IN", "JP"} <= markets
    assert {"BR", "IN"} <= reserved_markets
    assert (
        len(windows.versions) >= 2
        and windows.languages == ["en-US", "fr-FR"]
        and len(windows.file_types) >= 2
    )

    sales = actors(Role.sales_agent)
    example = sales.get("/v1/products/DZH318Z0BXQ7/skus/0001/availabilities/0003").json()
    assert (
        example["title"],
        example["country"],
        example["unitPrice"],
        example["terms"][0]["duration"],
    ) == ("Reserved VM Instance, Dsv5 Series, D4s v5, 1 year", "FR", "1234.56", "P1Y")
    assert sales.get("/v1/products?country=BR&targetView=AzureReservations").json()["totalCount"] == 0
    assert sales.get("/v1/products?country=FR&targetView=AzureReservations").json()["totalCount"] == 3
    assert sales.get("/v1/products?country=JP&targetView=SoftwarePerpetual").json()["totalCount"] == 4
    assert sales.get("/v1/products?country=JP&targetView=SoftwareSubscriptions").json()["totalCount"] == 1
    assert sales.get("/v1/products?country=JP&targetView=AzureReservationsSQL").json()["totalCount"] == 1
