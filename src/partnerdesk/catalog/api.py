"""Catalog routes on Partner Center's paths: products, SKUs and availabilities by market, a customer's
catalog by target view, and the operator's writes.

Who may read: the operator and every partner role but billing_admin (invoices are its whole job;
it never buys). Who may write: the operator only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from partnerdesk.accounts.auth import GuardedRequest, RequestContext, allow, allow_in_one_trip
from partnerdesk.accounts.models import Role
from partnerdesk.catalog import admin, service
from partnerdesk.catalog.schemas import (
    MARKET_PARAMETER,
    TARGET_VIEW_PARAMETER,
    AvailabilityIn,
    AvailabilityOut,
    AvailabilityUpdate,
    ProductIn,
    ProductOut,
    ProductUpdate,
    SkuIn,
    SkuOut,
    SkuUpdate,
    documented_query,
    product_json,
)
from partnerdesk.core.idempotency import run_once
from partnerdesk.core.pagination import PageRequest, page_params, to_collection
from partnerdesk.core.schemas import Collection, Link

router = APIRouter(tags=["catalog"])

READERS = (Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent)
WRITERS = (Role.operator,)

ProductId = Path(alias="productId", min_length=1, max_length=40)
SkuId = Path(alias="skuId", min_length=1, max_length=40)
AvailabilityId = Path(alias="availabilityId", min_length=1, max_length=40)
CustomerId = Path(alias="customerId", min_length=1, max_length=64)
Country = Query(None, description="The market: an ISO 3166-1 alpha-2 code such as FR.")
# Required: documented by the routes' `openapi_extra` (catalog.schemas), checked by the service (2100, 2101).
TargetViewQuery = Query(None, alias="targetView", include_in_schema=False)
MarketQuery = Query(None, alias="country", include_in_schema=False)


IfNoneMatch = Header(None, alias="If-None-Match",
                     description="The ETag of a page already held: 304 Not Modified while the page is the same.")
PAGE_OF_PRODUCTS_RESPONSES = {
    304: {"description": "Not modified: the page is still the one whose ETag was sent in If-None-Match."}}


def _json(content) -> bytes:
    """JSON as the API's `JSONResponse` writes it (same separators and characters)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


@lru_cache(maxsize=512)
def _items_renderer(country: str) -> Callable[[tuple[tuple, ...]], bytes]:
    """The renderer of a market's product rows: one function per market, so a cached page keeps its JSON by it."""
    def render(rows: tuple[tuple, ...]) -> bytes:
        return _json([product_json(row, country=country) for row in rows])

    return render


_NO_ITEMS = b'"items":[]'


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison of If-None-Match's list (or `*`) with the page's ETag."""
    if if_none_match is None:
        return False
    sent = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in sent or etag in sent


def _product_page(request: Request, listed: service.ProductList, if_none_match: str | None) -> Response:
    """A page of products as JSON, built without pydantic models (see `schemas.product_json`), with its ETag.

    The envelope (count and links, which name the request's own path) is made per request; the items'
    JSON comes with the cached page. 304 when the caller already holds these bytes."""
    envelope = to_collection(listed.page, request.url.path, dict(request.query_params), lambda _row: None).model_dump()
    envelope["items"] = []
    head, _, tail = _json(envelope).partition(_NO_ITEMS)  # totalCount, an integer, is the only key before it
    body = b"".join((head, b'"items":', listed.products.json_items(_items_renderer(listed.country)), tail))
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    # private: the page is the caller's to keep (a proxy must not hand it to another); no-cache: ask again,
    # with If-None-Match, each time (a catalog change shows on the next request).
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# Reading by market


@router.get("/v1/products", response_model=Collection[ProductOut], responses=PAGE_OF_PRODUCTS_RESPONSES,
            openapi_extra=documented_query(MARKET_PARAMETER, TARGET_VIEW_PARAMETER))
async def list_products(
    request: Request,
    guarded: GuardedRequest = allow_in_one_trip(*READERS),
    page: PageRequest = Depends(page_params),
    country: str | None = MarketQuery,
    target_view: str | None = TargetViewQuery,
    if_none_match: str | None = IfNoneMatch,
) -> Response:
    def answer(ctx: RequestContext) -> Response:
        listed = service.products_for_market(ctx.db, country=country, target_view=target_view, now=ctx.now,
                                             page=page)
        return _product_page(request, listed, if_none_match)

    return await guarded.run(answer)


@router.get("/v1/products/{productId}", response_model=ProductOut)
def get_product(
    product_id: str = ProductId, country: str | None = Country, ctx: RequestContext = allow(*READERS)
) -> ProductOut:
    row = service.get_product(ctx.db, product_id=product_id, country=country, now=ctx.now)
    return ProductOut.of(row, country=country.strip().upper() if country else None)


@router.get("/v1/products/{productId}/skus", response_model=Collection[SkuOut],
            openapi_extra=documented_query(MARKET_PARAMETER))
def list_skus(
    product_id: str = ProductId, country: str | None = MarketQuery, ctx: RequestContext = allow(*READERS)
) -> Collection[SkuOut]:
    _product, rows = service.list_skus(ctx.db, product_id=product_id, country=country, now=ctx.now)
    market = service.market(country)
    return Collection[SkuOut](total_count=len(rows), items=[SkuOut.of(row, country=market) for row in rows])


@router.get("/v1/products/{productId}/skus/{skuId}", response_model=SkuOut)
def get_sku(
    product_id: str = ProductId,
    sku_id: str = SkuId,
    country: str | None = Country,
    ctx: RequestContext = allow(*READERS),
) -> SkuOut:
    _product, row = service.get_sku(
        ctx.db, product_id=product_id, sku_id=sku_id, country=country, now=ctx.now
    )
    return SkuOut.of(row, country=country.strip().upper() if country else None)


@router.get(
    "/v1/products/{productId}/skus/{skuId}/availabilities", response_model=Collection[AvailabilityOut],
    openapi_extra=documented_query(MARKET_PARAMETER),
)
def list_availabilities(
    request: Request,
    product_id: str = ProductId,
    sku_id: str = SkuId,
    country: str | None = MarketQuery,
    ctx: RequestContext = allow(*READERS),
) -> Collection[AvailabilityOut]:
    product, sku, rows = service.list_availabilities(
        ctx.db, product_id=product_id, sku_id=sku_id, country=country, now=ctx.now
    )
    return _availabilities(ctx, request, product, sku, rows)


def _availability(ctx: RequestContext, product, sku, row) -> AvailabilityOut:
    purchasable = service.is_purchasable(ctx.db, product_type_id=product.product_type_id, availability=row,
                                         now=ctx.now)
    return AvailabilityOut.of(row, product_title=product.title, sku_title=sku.title, is_purchasable=purchasable,
                              product=product, sku=sku)


def _availabilities(ctx: RequestContext, request: Request, product, sku, rows) -> Collection[AvailabilityOut]:
    items = [_availability(ctx, product, sku, row) for row in rows]
    query = f"?{request.url.query}" if request.url.query else ""
    return Collection[AvailabilityOut](total_count=len(items), items=items,
                                       links={"self": Link(uri=f"{request.url.path}{query}")})


@router.get(
    "/v1/products/{productId}/skus/{skuId}/availabilities/{availabilityId}", response_model=AvailabilityOut
)
def get_availability(
    product_id: str = ProductId,
    sku_id: str = SkuId,
    availability_id: str = AvailabilityId,
    ctx: RequestContext = allow(*READERS),
) -> AvailabilityOut:
    product, sku, row = service.get_availability(
        ctx.db, product_id=product_id, sku_id=sku_id, availability_id=availability_id, now=ctx.now
    )
    return _availability(ctx, product, sku, row)


# A customer's catalog: the customer's market, rule R1, prices in force now


@router.get("/v1/customers/{customerId}/products", response_model=Collection[ProductOut],
            responses=PAGE_OF_PRODUCTS_RESPONSES, openapi_extra=documented_query(TARGET_VIEW_PARAMETER))
async def list_customer_products(
    request: Request,
    customer_id: str = CustomerId,
    target_view: str | None = TargetViewQuery,
    guarded: GuardedRequest = allow_in_one_trip(*READERS),
    page: PageRequest = Depends(page_params),
    if_none_match: str | None = IfNoneMatch,
) -> Response:
    def answer(ctx: RequestContext) -> Response:
        listed = service.products_for_customer(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                               target_view=target_view, now=ctx.now, page=page)
        return _product_page(request, listed, if_none_match)

    return await guarded.run(answer)


@router.get("/v1/customers/{customerId}/products/{productId}/skus", response_model=Collection[SkuOut])
def list_customer_skus(
    customer_id: str = CustomerId, product_id: str = ProductId, ctx: RequestContext = allow(*READERS)
) -> Collection[SkuOut]:
    country = service.customer_market(ctx.db, principal=ctx.principal, customer_id=customer_id)
    _product, rows = service.list_skus(ctx.db, product_id=product_id, country=country, now=ctx.now)
    return Collection[SkuOut](
        total_count=len(rows), items=[SkuOut.of(row, country=country) for row in rows]
    )


@router.get(
    "/v1/customers/{customerId}/products/{productId}/skus/{skuId}/availabilities",
    response_model=Collection[AvailabilityOut],
)
def list_customer_availabilities(
    request: Request,
    customer_id: str = CustomerId,
    product_id: str = ProductId,
    sku_id: str = SkuId,
    ctx: RequestContext = allow(*READERS),
) -> Collection[AvailabilityOut]:
    country = service.customer_market(ctx.db, principal=ctx.principal, customer_id=customer_id)
    product, sku, rows = service.list_availabilities(
        ctx.db, product_id=product_id, sku_id=sku_id, country=country, now=ctx.now
    )
    return _availabilities(ctx, request, product, sku, rows)


# The operator's writes


def _once(ctx: RequestContext, operation: str, body, work) -> JSONResponse:
    return run_once(
        ctx.db,
        scope=ctx.principal.idempotency_scope,
        request_id=ctx.request_id,
        operation=operation,
        payload=body.model_dump(mode="json"),
        now=ctx.now,
        work=work,
    )


def _product_out(ctx: RequestContext, product_id: str) -> ProductOut:
    return ProductOut.of(service.get_product(ctx.db, product_id=product_id, now=ctx.now))


def _sku_out(ctx: RequestContext, product_id: str, sku_id: str) -> SkuOut:
    return SkuOut.of(service.get_sku(ctx.db, product_id=product_id, sku_id=sku_id, now=ctx.now)[1])


def _availability_out(
    ctx: RequestContext, product_id: str, sku_id: str, availability_id: str
) -> AvailabilityOut:
    product, sku, row = service.get_availability(
        ctx.db, product_id=product_id, sku_id=sku_id, availability_id=availability_id, now=ctx.now
    )
    return _availability(ctx, product, sku, row)


@router.post("/v1/products", status_code=201, response_model=ProductOut)
def create_product(body: ProductIn, ctx: RequestContext = allow(*WRITERS)) -> JSONResponse:
    def work() -> tuple[int, dict]:
        product = admin.create_product(
            ctx.db, data=body, principal=ctx.principal, now=ctx.now, request_id=ctx.request_id
        )
        return 201, _product_out(ctx, product.id).model_dump(mode="json")

    return _once(ctx, "POST /v1/products", body, work)


@router.put("/v1/products/{productId}", response_model=ProductOut)
def update_product(
    body: ProductUpdate, product_id: str = ProductId, ctx: RequestContext = allow(*WRITERS)
) -> ProductOut:
    admin.update_product(
        ctx.db,
        product_id=product_id,
        data=body,
        principal=ctx.principal,
        now=ctx.now,
        request_id=ctx.request_id,
    )
    return _product_out(ctx, product_id)


@router.delete("/v1/products/{productId}", status_code=204)
def withdraw_product(product_id: str = ProductId, ctx: RequestContext = allow(*WRITERS)) -> Response:
    admin.withdraw(
        ctx.db, product_id=product_id, principal=ctx.principal, now=ctx.now, request_id=ctx.request_id
    )
    return Response(status_code=204)


@router.post("/v1/products/{productId}/skus", status_code=201, response_model=SkuOut)
def create_sku(
    body: SkuIn, product_id: str = ProductId, ctx: RequestContext = allow(*WRITERS)
) -> JSONResponse:
    def work() -> tuple[int, dict]:
        sku = admin.create_sku(
            ctx.db,
            product_id=product_id,
            data=body,
            principal=ctx.principal,
            now=ctx.now,
            request_id=ctx.request_id,
        )
        return 201, _sku_out(ctx, product_id, sku.id).model_dump(mode="json")

    return _once(ctx, f"POST /v1/products/{product_id}/skus", body, work)


@router.put("/v1/products/{productId}/skus/{skuId}", response_model=SkuOut)
def update_sku(
    body: SkuUpdate, product_id: str = ProductId, sku_id: str = SkuId, ctx: RequestContext = allow(*WRITERS)
) -> SkuOut:
    admin.update_sku(
        ctx.db,
        product_id=product_id,
        sku_id=sku_id,
        data=body,
        principal=ctx.principal,
        now=ctx.now,
        request_id=ctx.request_id,
    )
    return _sku_out(ctx, product_id, sku_id)


@router.delete("/v1/products/{productId}/skus/{skuId}", status_code=204)
def withdraw_sku(
    product_id: str = ProductId, sku_id: str = SkuId, ctx: RequestContext = allow(*WRITERS)
) -> Response:
    admin.withdraw(
        ctx.db,
        product_id=product_id,
        sku_id=sku_id,
        principal=ctx.principal,
        now=ctx.now,
        request_id=ctx.request_id,
    )
    return Response(status_code=204)


@router.post(
    "/v1/products/{productId}/skus/{skuId}/availabilities", status_code=201, response_model=AvailabilityOut
)
def create_availability(
    body: AvailabilityIn,
    product_id: str = ProductId,
    sku_id: str = SkuId,
    ctx: RequestContext = allow(*WRITERS),
) -> JSONResponse:
    def work() -> tuple[int, dict]:
        availability = admin.create_availability(
            ctx.db,
            product_id=product_id,
            sku_id=sku_id,
            data=body,
            principal=ctx.principal,
            now=ctx.now,
            request_id=ctx.request_id,
        )
        return 201, _availability_out(ctx, product_id, sku_id, availability.id).model_dump(mode="json")

    return _once(ctx, f"POST /v1/products/{product_id}/skus/{sku_id}/availabilities", body, work)


@router.put(
    "/v1/products/{productId}/skus/{skuId}/availabilities/{availabilityId}", response_model=AvailabilityOut
)
def update_availability(
    body: AvailabilityUpdate,
    product_id: str = ProductId,
    sku_id: str = SkuId,
    availability_id: str = AvailabilityId,
    ctx: RequestContext = allow(*WRITERS),
) -> AvailabilityOut:
    admin.update_availability(
        ctx.db,
        product_id=product_id,
        sku_id=sku_id,
        availability_id=availability_id,
        data=body,
        principal=ctx.principal,
        now=ctx.now,
        request_id=ctx.request_id,
    )
    return _availability_out(ctx, product_id, sku_id, availability_id)


@router.delete("/v1/products/{productId}/skus/{skuId}/availabilities/{availabilityId}", status_code=204)
def withdraw_availability(
    product_id: str = ProductId,
    sku_id: str = SkuId,
    availability_id: str = AvailabilityId,
    ctx: RequestContext = allow(*WRITERS),
) -> Response:
    admin.withdraw(
        ctx.db,
        product_id=product_id,
        sku_id=sku_id,
        availability_id=availability_id,
        principal=ctx.principal,
        now=ctx.now,
        request_id=ctx.request_id,
    )
    return Response(status_code=204)
