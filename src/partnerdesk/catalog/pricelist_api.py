"""The operator's price-list routes: `GET /v1/pricelists` exports the catalog's prices as a CSV file in the
layout asked, `POST /v1/pricelists` imports one (all rows or none), as `partnerdesk catalog export/import` do.

Only the operator: a price list is the whole catalog's prices, and an import rewrites them.
"""

from __future__ import annotations

import io

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from pydantic import Field

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.catalog import pricelist
from partnerdesk.catalog import pricelist_formats as formats
from partnerdesk.catalog.errors import InvalidPriceList
from partnerdesk.core.downloads import content_disposition
from partnerdesk.core.markets import market_pattern
from partnerdesk.core.schemas import ResponseModel

router = APIRouter(tags=["catalog"])

PRICE_LIST_KEEPERS = (Role.operator,)
FORMAT_DESCRIPTION = (
    f"The layout: {', '.join(formats.FORMAT_NAMES)}. Export: partner-desk when left out (it round-trips "
    "everything). Import: found from the header when left out."
)

# The names in the document's enum; the routes also take them in any letter case, as the CLI does.
FormatQuery = Query(
    None, alias="format", max_length=40, description=FORMAT_DESCRIPTION,
    json_schema_extra={"enum": list(formats.FORMAT_NAMES)},
)


class SkippedRowsOut(ResponseModel):
    kind: str = Field(description='What the rows are for, such as "Azure consumption meter".')
    rows: int


class PriceListImportOut(ResponseModel):
    format: str = Field(description="The layout the file was read as.")
    rows: int = Field(description="Price rows imported (added or updated).")
    products: int
    skus: int
    markets: list[str]
    skipped: list[SkippedRowsOut] = Field(description="Rows for what this desk does not sell, by kind: not imported.")


@router.get(
    "/v1/pricelists",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The price list as a CSV file."}},
)
def export_price_list(
    layout: str | None = FormatQuery,
    market: str | None = Query(None, max_length=2, description="Only this market (FR, in any letter case); all "
                               "when left out.", json_schema_extra={"pattern": market_pattern()}),
    ctx: RequestContext = allow(*PRICE_LIST_KEEPERS),
) -> Response:
    """The catalog's prices in the layout asked, ordered by catalog item id (so two exports compare byte for byte)."""
    fmt = formats.named(layout) or formats.FORMATS[formats.PARTNER_DESK]
    out = io.StringIO(newline="")
    pricelist.export_price_list(ctx.db, out, market=market, format=fmt.name)
    name = f"pricelist-{fmt.name}{'-' + market.upper() if market else ''}.csv"
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(name)},
    )


@router.post("/v1/pricelists", response_model=PriceListImportOut)
def import_price_list(
    body: bytes = Body(..., media_type="text/csv", description="A price list CSV file (UTF-8, with or without BOM)."),
    layout: str | None = FormatQuery,
    ctx: RequestContext = allow(*PRICE_LIST_KEEPERS),
) -> PriceListImportOut:
    """Imports a price list: every row or none (400, code 2300, each bad row by line and column)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidPriceList("The price list is not UTF-8 text; nothing was imported.", ["body"]) from None
    report = pricelist.import_price_list(
        ctx.db, io.StringIO(text, newline=""), now=ctx.now, principal=ctx.principal, source="api", format=layout
    )
    return PriceListImportOut(
        format=report.format,
        rows=report.rows,
        products=report.products,
        skus=report.skus,
        markets=sorted(report.markets),
        skipped=[SkippedRowsOut(kind=kind, rows=count) for kind, count in sorted(report.skipped.items())],
    )
