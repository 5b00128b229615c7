"""Partner Center shapes of carts, checkout results, orders, subscriptions and entitlements.

Money is always a string with the currency's minor units ("2469.12"), never a JSON number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, model_validator

from partnerdesk.catalog.price_terms import PriceTermsOut
from partnerdesk.core.schemas import CamelModel, Link, ResponseModel
from partnerdesk.core.wire_types import StrictInteger, any_case_pattern


class ParticipantIn(CamelModel):
    """One of a line's `participants`: Partner Center's key-value pair (a partner id on record)."""

    key: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=200)


class RenewsToIn(CamelModel):
    term_duration: str | None = Field(None, max_length=8)


class CartLineItemIn(CamelModel):
    """A cart line, as Partner Center's `CartLineItem`; the fields the cart answers with may be sent back."""

    read_only_fields = ("error", "addonItems")

    # The client's line id; when left out, the line's position in the list.
    id: Annotated[StrictInteger, Field(ge=0, le=9999)] | None = None
    catalog_item_id: str = Field(min_length=1, max_length=64)
    quantity: Annotated[StrictInteger, Field(ge=1, le=1_000_000)]
    billing_cycle: str = Field(min_length=1, max_length=16)
    term_duration: str | None = Field(None, max_length=8)
    friendly_name: str | None = Field(None, max_length=200)
    # Null, as Partner Center's SDKs send it for a line that needs none, is an empty context.
    provisioning_context: dict[str, str] | None = Field(default_factory=dict, max_length=10)
    currency_code: str | None = Field(
        None, pattern=r"^[A-Za-z]{3}$",
        description="The line's currency, as the cart answers it; when given it must be the price's currency.")
    order_group: str | None = Field(
        None, max_length=40, description="Read back from the cart; orders are grouped by currency and billing cycle.")
    participants: list[ParticipantIn] | None = Field(
        None, max_length=10, description="Partner ids on record; accepted, not kept.")
    renews_to: list[RenewsToIn] | None = Field(
        None, max_length=1, description="The renewal term; accepted, not kept (Partner Desk renews nothing).")
    attributes: dict[str, Any] | None = Field(None, description="Partner Center's metadata; ignored.")

    @model_validator(mode="after")
    def _no_context_is_an_empty_context(self) -> CartLineItemIn:
        if self.provisioning_context is None:
            self.provisioning_context = {}
        return self


class CartIn(CamelModel):
    """A cart; the fields a cart is answered with (`GET .../carts/{id}`) may be sent back with `PUT`."""

    read_only_fields = ("id", "creationTimestamp", "lastModifiedTimestamp", "expirationTimestamp",
                        "lastModifiedUser", "status")

    line_items: list[CartLineItemIn] = Field(min_length=1, max_length=50)


class CartLineItemOut(ResponseModel):
    id: int
    catalog_item_id: str
    friendly_name: str
    quantity: int
    currency_code: str
    billing_cycle: str
    term_duration: str | None
    provisioning_context: dict[str, str]
    order_group: str
    price_terms: PriceTermsOut | None = Field(
        None, description="What the line costs (quantity × today's unit price) per billingCycle over its term, with "
                          "the number of charges and the term's total; null when it can no longer be bought as it is.")


class CartOut(ResponseModel):
    id: str
    creation_timestamp: datetime
    last_modified_timestamp: datetime
    expiration_timestamp: datetime
    last_modified_user: str
    status: str
    line_items: list[CartLineItemOut]
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Cart"}


# Whatever a cart is answered with may be sent back with PUT: the answer's own fields (priceTerms, ...)
# are the server's to write, whichever are added later.
CartIn.read_only_from = CartOut
CartLineItemIn.read_only_from = CartLineItemOut


class OrderLineItemOut(ResponseModel):
    line_item_number: int
    offer_id: str
    catalog_item_id: str
    product_id: str
    sku_id: str
    availability_id: str
    friendly_name: str
    quantity: int = Field(description="0 once the line is cancelled (rule R5), as Partner Center shows it.")
    term_duration: str | None
    billing_cycle: str
    subscription_id: str
    provisioning_context: dict[str, str]
    transaction_type: str
    unit_price: str
    total_price: str
    price_terms: PriceTermsOut = Field(description="What totalPrice is per: charged each billingCycle over the term, "
                                                 "with the number of charges and the line's total for the term.")
    currency_code: str
    status: str
    credited_amount: str = Field(description="What the partner was credited for the line when it was cancelled.")
    links: dict[str, Link]


class OrderOut(ResponseModel):
    id: str
    alternate_id: str = Field(description="As Partner Center answers it: the same as id.")
    reference_customer_id: str
    billing_cycle: str
    currency_code: str
    currency_symbol: str
    total_price: str
    status: str
    creation_date: datetime
    transaction_type: str = "UserPurchase"
    # Rule R5, while a line can still be cancelled; null once the window has closed or every line is cancelled,
    # and in a checkout's answer (read the order back to see them).
    cancellable_until: datetime | None = None
    days_left_to_cancel: int | None = Field(None, description="Whole days left before cancellableUntil.")
    line_items: list[OrderLineItemOut]
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Order"}


def _without_read_only_fields(value: Any, shape: type[ResponseModel], patchable: set[str]) -> Any:
    """Drops the fields of `shape` a client echoes back when it PATCHes the order as GET returned it.

    Partner Center tooling cancels by sending the whole order with `status` changed; anything that is
    neither the change nor a field of the order stays an unknown field, refused like everywhere else.
    """
    if not isinstance(value, dict):
        return value
    echoed = {field.alias or name for name, field in shape.model_fields.items()}
    return {key: item for key, item in value.items() if key not in echoed or key in patchable}


class OrderLineRefIn(CamelModel):
    # A line sent back as read, in any letter case (the .NET SDK's PascalCase): its other fields are the server's.
    read_only_from = OrderLineItemOut

    line_item_number: Annotated[StrictInteger, Field(ge=0, le=9999)]

    @model_validator(mode="before")
    @classmethod
    def _echoed_line(cls, value: Any) -> Any:
        return _without_read_only_fields(value, OrderLineItemOut, {"lineItemNumber"})


def _cancelled_only(schema: dict[str, Any]) -> None:
    """The one change an order accepts, in any letter case as `orders.cancellation.cancel_lines` reads it."""
    from partnerdesk.orders.presenters import CANCELLED  # the presenters are built on these shapes

    schema["pattern"] = any_case_pattern([CANCELLED])


class OrderPatchIn(CamelModel):
    """`PATCH .../orders/{orderId}`: cancels the listed lines, or every line when none is listed (rule R5).

    Nothing else of an order changes; a line already cancelled stays as it is.
    """

    read_only_from = OrderOut

    status: str = Field(min_length=1, max_length=16, description="cancelled", json_schema_extra=_cancelled_only)
    line_items: list[OrderLineRefIn] | None = Field(
        None, max_length=50, json_schema_extra={"uniqueItems": True},
        description="The lines to cancel, each once; left out or empty: every line of the order. A number the "
        "order has no line for is refused (400, code 3111).")
    reason: str | None = Field(None, max_length=500, description="Why the purchase is cancelled (activity log).")

    @model_validator(mode="before")
    @classmethod
    def _echoed_order(cls, value: Any) -> Any:
        return _without_read_only_fields(value, OrderOut, {"status", "lineItems"})


class OrderErrorOut(ResponseModel):
    order_group_id: str
    code: int
    description: str


class CheckoutOut(ResponseModel):
    orders: list[OrderOut]
    order_errors: list[OrderErrorOut]
    attributes: dict[str, Any] = {"objectType": "CartCheckoutResult"}


class SubscriptionOut(ResponseModel):
    id: str
    offer_id: str
    offer_name: str
    friendly_name: str
    quantity: int
    unit_type: str
    creation_date: datetime
    effective_start_date: datetime
    commitment_end_date: datetime | None
    status: str
    auto_renew_enabled: bool = False
    billing_type: str = "license"
    billing_cycle: str
    term_duration: str | None
    contract_type: str = "subscription"
    order_id: str
    links: dict[str, Link]
    attributes: dict[str, Any] = {"objectType": "Subscription"}


class ReferenceOrderOut(ResponseModel):
    id: str
    line_item_id: str


class ReservationOut(ResponseModel):
    reservation_id: str
    reservation_order_id: str
    scope_type: str
    display_name: str
    applied_scopes: list[str]
    billing_subscription_id: str
    region: str
    quantity: int
    effective_date_time: datetime
    expiry_date_time: datetime
    provisioning_state: str


class EntitledArtifactOut(ResponseModel):
    artifact_type: str = Field(description="reservedinstance, as Partner Center writes it.")
    resource_id: str
    # Partner Center's SDKs follow it to the artifact's details (ReservedInstanceArtifactDetails).
    link: Link
    dynamic_attributes: dict[str, Any]
    reservations: list[ReservationOut]


class ReservedInstanceArtifactDetailsOut(ResponseModel):
    type: str = "reservedinstance"
    reservations: list[ReservationOut]
    attributes: dict[str, Any] = {"objectType": "ReservedInstanceArtifactDetails"}


class EntitlementOut(ResponseModel):
    id: str
    reference_order: ReferenceOrderOut
    subscription_id: str
    product_id: str
    sku_id: str
    quantity: int
    entitlement_type: str
    fulfillment_state: str
    status: str
    creation_date: datetime
    expiry_date: datetime | None
    entitled_artifacts: list[EntitledArtifactOut]
    included_entitlements: list[Any] = []
    attributes: dict[str, Any] = {"objectType": "Entitlement"}
