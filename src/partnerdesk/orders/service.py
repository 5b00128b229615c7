"""Rules for carts, orders, subscriptions and entitlements.

Every cart line is checked against the catalog as it stands at the moment (price and availability
in force, the customer's market, quantity bounds, term, billing cycle, and for a Reserved Instance
rule R8), both when the cart is written and again at checkout. Carts and checkout write with Core
`insert(table)` statements, one per table and several rows each: checkout is the hottest write of the
desk, and the columns' own defaults apply to whatever a row leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import Row, Select, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.catalog import service as catalog
from partnerdesk.catalog.vocabulary import billing_cycle as canonical_billing_cycle
from partnerdesk.core.db import new_id
from partnerdesk.core.errors import DeskError
from partnerdesk.core.money import money_str
from partnerdesk.core.pagination import ASC, DESC, SortKey
from partnerdesk.customers import service as customers
from partnerdesk.customers.service import CustomerRef
from partnerdesk.orders.errors import (
    BillingCycleNotSupported,
    BuyerRequired,
    CartAlreadyCheckedOut,
    CartExpired,
    CartLineNotFound,
    CartNotFound,
    EmptyCart,
    InvalidLineItem,
    InvalidOrderFilter,
    OrderNotFound,
    QuantityOutOfRange,
    SubscriptionNotFound,
    TermNotOffered,
)
from partnerdesk.orders.models import Cart, CartLineItem, Entitlement, Order, OrderLineItem, Subscription
from partnerdesk.orders.terms import term_end
from partnerdesk.policies import service as policies
from partnerdesk.reservations import service as reservations
from partnerdesk.reservations.models import AzureSubscription

ACTIVE = "Active"
ORDERED = "Ordered"
SOFTWARE_ENTITLEMENT = "software"
RESERVED_INSTANCE_ENTITLEMENT = "reservedInstance"
ENTITLEMENT_TYPES = (SOFTWARE_ENTITLEMENT, RESERVED_INSTANCE_ENTITLEMENT)


def require_buyer(principal: Principal) -> str:
    """The buying partner's id; the operator reads purchases but never buys."""
    if principal.partner_id is None:
        raise BuyerRequired("Only a partner's agents buy for its customers; the operator reads purchases.")
    return principal.partner_id


# --- checking cart lines -------------------------------------------------------------------------

class LineInput(Protocol):
    id: int | None
    catalog_item_id: str
    quantity: int
    billing_cycle: str
    term_duration: str | None
    friendly_name: str | None
    provisioning_context: dict[str, str]


@dataclass(frozen=True)
class CheckedLine:
    """A cart line that may be bought now, with the catalog item and price in force."""

    line_id: int
    item: catalog.PurchasableItem
    quantity: int
    billing_cycle: str
    term_duration: str | None
    friendly_name: str
    provisioning_context: dict[str, str]
    reservation: reservations.ReservationPlan | None

    @property
    def total(self) -> Decimal:
        return self.item.unit_price * self.quantity

    @property
    def order_group(self) -> tuple[str, str]:
        # One order per currency and billing cycle, as Partner Center splits a checkout.
        return self.item.currency, self.billing_cycle


@dataclass
class LineChecker:
    """Checks the lines of one cart for one customer; reads the Azure subscriptions at most once."""

    db: Session
    customer: CustomerRef
    now: datetime
    _azure: list[AzureSubscription] | None = field(default=None, init=False)

    def azure_subscriptions(self) -> list[AzureSubscription]:
        if self._azure is None:
            self._azure = reservations.active_azure_subscriptions(self.db, self.customer.id)
        return self._azure

    def check(self, line: LineInput, position: int) -> CheckedLine:
        field_name = f"lineItems[{position}]"
        line_id = position if line.id is None else line.id
        item = catalog.resolve_purchasable(self.db, catalog_item_id=line.catalog_item_id,
                                           country=self.customer.country, now=self.now)
        # Partner Center's clients send back the currency the cart answered: it must still be the price's.
        currency = getattr(line, "currency_code", None)
        if currency and currency.upper() != item.currency:
            raise InvalidLineItem(
                f"{field_name}.currencyCode: {item.catalog_item_id} is priced in {item.currency}, not {currency}.",
                [f"{field_name}.currencyCode", item.currency],
            )
        if not item.min_quantity <= line.quantity <= item.max_quantity:
            raise QuantityOutOfRange(
                f"{field_name}.quantity: {line.quantity} is outside what {item.catalog_item_id} allows "
                f"({item.min_quantity} to {item.max_quantity}).",
                [f"{field_name}.quantity", item.min_quantity, item.max_quantity],
            )
        given_term, term_source = line.term_duration, "termDuration"
        if item.is_reserved_instance and not (given_term or "").strip():
            # Partner Center's Reserved Instance lines name their term in provisioningContext.duration only.
            given_term = reservations.term_from_context(line.provisioning_context)
            term_source = "provisioningContext.duration" if given_term else term_source
        term = self._term(given_term, item, field_name, term_source)
        cycle = self._billing_cycle(line, item, field_name)
        reservation = None
        if item.is_reserved_instance:
            reservation = reservations.plan_reservation(
                context=line.provisioning_context, field=f"{field_name}.provisioningContext",
                customer_id=self.customer.id, term_duration=term, regions=item.regions,
                purchase_prerequisites=item.purchase_prerequisites, subscriptions=self.azure_subscriptions(),
            )
            context = reservation.provisioning_context()
        else:
            context = self._software_context(line, item, field_name)
        return CheckedLine(
            line_id=line_id, item=item, quantity=line.quantity, billing_cycle=cycle, term_duration=term,
            friendly_name=(line.friendly_name or "").strip() or item.title, provisioning_context=context,
            reservation=reservation,
        )

    @staticmethod
    def _term(term_duration: str | None, item: catalog.PurchasableItem, field_name: str,
              source: str = "termDuration") -> str | None:
        offered = [term.duration for term in item.terms]
        given = (term_duration or "").strip().upper() or None
        if not offered:
            if given is not None:
                raise TermNotOffered(
                    f"{field_name}.termDuration: {item.catalog_item_id} is perpetual and has no term; leave "
                    "termDuration out.",
                    [f"{field_name}.termDuration"],
                )
            return None
        if given not in offered:
            raise TermNotOffered(
                f"{field_name}.{source}: {item.catalog_item_id} is sold for {', '.join(offered)}"
                + (f", not {given}." if given else "; give termDuration."),
                [f"{field_name}.{source}", *offered],
            )
        return given

    @staticmethod
    def _billing_cycle(line: LineInput, item: catalog.PurchasableItem, field_name: str) -> str:
        cycle = canonical_billing_cycle(line.billing_cycle)
        if cycle is None:
            raise InvalidLineItem(
                f"{field_name}.billingCycle: '{line.billing_cycle}' is not a billing cycle such as one_time, "
                "monthly or annual.",
                [f"{field_name}.billingCycle"],
            )
        allowed = item.billing_cycles
        if cycle not in allowed:
            raise BillingCycleNotSupported(
                f"{field_name}.billingCycle: {item.catalog_item_id} is priced {item.billing_plan} "
                f"({money_str(item.unit_price, item.currency)} {item.currency} per unit"
                f"{'' if item.billing_plan == 'one_time' else ' each cycle'}); billingCycle must be "
                f"{' or '.join(allowed)}, not {cycle}.",
                [f"{field_name}.billingCycle", *allowed],
            )
        return cycle

    @staticmethod
    def _software_context(line: LineInput, item: catalog.PurchasableItem, field_name: str) -> dict[str, str]:
        allowed = {name.casefold(): name for name in item.provisioning_variables}
        context: dict[str, str] = {}
        for key, value in line.provisioning_context.items():
            name = allowed.get(key.casefold())
            if name is None:
                raise InvalidLineItem(
                    f"{field_name}.provisioningContext.{key} is not a provisioning variable of "
                    f"{item.catalog_item_id}" + (f"; it takes: {', '.join(allowed.values())}." if allowed
                                                 else "; it takes none."),
                    [f"{field_name}.provisioningContext.{key}"],
                )
            context[name] = value
        return context


def check_lines(db: Session, *, customer: CustomerRef, lines: Sequence[LineInput], now: datetime) -> list[CheckedLine]:
    checker = LineChecker(db, customer, now)
    checked = [checker.check(line, position) for position, line in enumerate(lines)]
    seen: set[int] = set()
    for position, line in enumerate(checked):
        if line.line_id in seen:
            raise InvalidLineItem(f"lineItems[{position}].id: {line.line_id} is used by another line of the cart.",
                                  [f"lineItems[{position}].id"])
        seen.add(line.line_id)
    return checked


def order_groups(lines: Sequence[CheckedLine]) -> dict[tuple[str, str], list[CheckedLine]]:
    groups: dict[tuple[str, str], list[CheckedLine]] = {}
    for line in lines:
        groups.setdefault(line.order_group, []).append(line)
    return dict(sorted(groups.items()))


# --- carts ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CartView:
    # ORM rows, or plain rows with the same names on the hot paths (create, checkout).
    cart: Cart
    lines: list[CartLineItem]
    # By line id, the catalog item each line is priced by now, for the API's priceTerms (when the lines
    # were just checked, or read with `priced_cart`); a line that can no longer be bought as it is has none.
    items: Mapping[int, catalog.PurchasableItem] = field(default_factory=dict)


def _line_rows(cart_id: str, lines: Sequence[CheckedLine]) -> list[dict[str, Any]]:
    return [
        {"cart_id": cart_id, "id": line.line_id, "catalog_item_id": line.item.catalog_item_id,
         "friendly_name": line.friendly_name, "currency": line.item.currency, "quantity": line.quantity,
         "billing_cycle": line.billing_cycle, "term_duration": line.term_duration,
         "provisioning_context": line.provisioning_context}
        for line in lines
    ]


def create_cart(
    db: Session, *, principal: Principal, customer_id: str, lines: Sequence[LineInput], now: datetime
) -> CartView:
    require_buyer(principal)
    customer = customers.get_customer_ref(db, principal=principal, customer_id=customer_id)
    checked = check_lines(db, customer=customer, lines=lines, now=now)
    expires = now + timedelta(hours=policies.cart_expiry_hours(db))
    cart_row = {"id": new_id(), "partner_id": customer.partner_id, "customer_id": customer.id, "status": ACTIVE,
                "created_at": now, "updated_at": now, "expires_at": expires, "updated_by": principal.email,
                "checked_out_at": None}
    line_rows = _line_rows(cart_row["id"], checked)
    db.execute(insert(Cart.__table__), [cart_row])
    db.execute(insert(CartLineItem.__table__), line_rows)
    # What was written, as plain values: instrumented ORM objects would cost more than the inserts.
    return CartView(SimpleNamespace(**cart_row), [SimpleNamespace(**row) for row in line_rows],
                    {line.line_id: line.item for line in checked})


def _cart_with_lines(db: Session, *, customer: CustomerRef, cart_id: str, for_update: bool) -> CartView:
    statement = (
        select(Cart, CartLineItem)
        .outerjoin(CartLineItem, CartLineItem.cart_id == Cart.id)
        .where(Cart.id == cart_id, Cart.customer_id == customer.id)
        .order_by(CartLineItem.id)
    )
    if for_update:
        # PostgreSQL: a second checkout of this cart waits here, then sees it ordered.
        statement = statement.with_for_update(of=Cart)
    rows = db.execute(statement).all()
    if not rows:
        raise CartNotFound(f"Customer {customer.id} has no cart {cart_id}.", [cart_id])
    return CartView(rows[0][0], [line for _cart, line in rows if line is not None])


def get_cart(db: Session, *, principal: Principal, customer_id: str, cart_id: str) -> CartView:
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    return _cart_with_lines(db, customer=customer, cart_id=cart_id, for_update=False)


def priced_cart(db: Session, *, principal: Principal, customer_id: str, cart_id: str, now: datetime) -> CartView:
    """The cart with, for each line that can still be bought as it is, the catalog item in force now."""
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    view = _cart_with_lines(db, customer=customer, cart_id=cart_id, for_update=False)
    items: dict[int, catalog.PurchasableItem] = {}
    for line in view.lines:
        try:
            item = catalog.resolve_purchasable(db, catalog_item_id=line.catalog_item_id, country=customer.country,
                                               now=now)
        except DeskError:  # no longer on sale there: the checkout will say why
            continue
        if line.billing_cycle in item.billing_cycles:
            items[line.id] = item
    return CartView(view.cart, view.lines, items)


def _check_open(cart: Cart, now: datetime) -> None:
    if cart.status != ACTIVE:
        raise CartAlreadyCheckedOut(f"Cart {cart.id} was already checked out; create a new cart.", [cart.id])
    if cart.expires_at <= now:
        raise CartExpired(
            f"Cart {cart.id} expired at {cart.expires_at.isoformat()}; create a new cart.", [cart.id]
        )


def update_cart(
    db: Session, *, principal: Principal, customer_id: str, cart_id: str, lines: Sequence[LineInput], now: datetime
) -> CartView:
    """Replaces the cart's lines (Partner Center's PUT), while the cart is open."""
    require_buyer(principal)
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    view = _cart_with_lines(db, customer=customer, cart_id=cart_id, for_update=True)
    _check_open(view.cart, now)
    checked = check_lines(db, customer=customer, lines=lines, now=now)
    line_rows = _line_rows(cart_id, checked)
    db.execute(delete(CartLineItem).where(CartLineItem.cart_id == cart_id))
    if line_rows:  # the portal may remove a cart's last line; the API always sends one or more
        db.execute(insert(CartLineItem.__table__), line_rows)
    db.execute(update(Cart).where(Cart.id == cart_id).values(updated_at=now, updated_by=principal.email))
    db.expire(view.cart)
    return CartView(db.get(Cart, cart_id), [CartLineItem(**row) for row in line_rows],
                    {line.line_id: line.item for line in checked})


# The cart and its lines in one statement. PostgreSQL: a second checkout of this cart waits on the
# cart's row lock (FOR UPDATE OF carts: the lines, on the join's nullable side, are not locked), then
# sees the cart ordered. The cart is found by its primary key alone and the customer checked in Python:
# with a second condition, a plan PostgreSQL cached while the table was small could take the customer's
# index and read every cart of the customer (measured once: 690 pages and a third of the checkout's
# database time). Checkout's statements are on the tables' columns (see CONTRIBUTING, "How a write is done").
_cart, _cart_line = Cart.__table__.c, CartLineItem.__table__.c
_CART_FOR_CHECKOUT = (
    select(_cart.customer_id.label("cart_customer_id"), _cart.status.label("cart_status"),
           _cart.expires_at.label("cart_expires_at"), _cart_line.id, _cart_line.catalog_item_id,
           _cart_line.quantity, _cart_line.billing_cycle, _cart_line.term_duration, _cart_line.friendly_name,
           _cart_line.provisioning_context)
    .select_from(Cart.__table__.outerjoin(CartLineItem.__table__, _cart_line.cart_id == _cart.id))
    .where(_cart.id == bindparam("cart_id"))
    .order_by(_cart_line.id)
    .with_for_update(of=Cart.__table__)
)

_MARK_ORDERED = (
    update(Cart.__table__).where(_cart.id == bindparam("cart_id"), _cart.status == ACTIVE)
    .values(status=ORDERED, checked_out_at=bindparam("now"), updated_at=bindparam("now"))
)


def lock_open_cart(db: Session, *, customer: CustomerRef, cart_id: str, now: datetime) -> CartView:
    """The cart to check out, locked, still open and not expired, with its lines."""
    rows = db.execute(_CART_FOR_CHECKOUT, {"cart_id": cart_id}).all()
    if not rows or rows[0].cart_customer_id != customer.id:
        raise CartNotFound(f"Customer {customer.id} has no cart {cart_id}.", [cart_id])
    first = rows[0]
    cart = SimpleNamespace(id=cart_id, customer_id=first.cart_customer_id, status=first.cart_status,
                           expires_at=first.cart_expires_at)
    _check_open(cart, now)
    lines = [row for row in rows if row.id is not None]  # a cart without lines gives one row of nulls
    if not lines:
        raise EmptyCart(f"Cart {cart_id} has no line left; add a product before checking it out.", [cart_id])
    return CartView(cart, lines)


def mark_ordered(db: Session, *, cart_id: str, now: datetime) -> None:
    """Turns the cart from Active to Ordered, with the checkout's own writes.

    The guard against a second checkout is the cart's row lock taken by `lock_open_cart`: on
    PostgreSQL a second checkout of the cart waits there until this transaction ends, then reads
    the cart Ordered; SQLite runs one write transaction at a time.
    """
    db.execute(_MARK_ORDERED, {"cart_id": cart_id, "now": now})


# --- placing orders ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlacedLine:
    number: int
    line: CheckedLine
    subscription_id: str
    entitlement_id: str
    effective_start: datetime
    commitment_end: datetime | None


@dataclass(frozen=True)
class PlacedOrder:
    id: str
    billing_cycle: str
    currency: str
    total: Decimal
    status: str
    created_at: datetime
    lines: list[PlacedLine]


def place_orders(
    db: Session, *, principal: Principal, customer: CustomerRef, cart_id: str | None,
    groups: Mapping[tuple[str, str], Sequence[CheckedLine]], now: datetime,
) -> list[PlacedOrder]:
    """Writes the orders, their lines, a subscription and an entitlement per line: one INSERT per table."""
    placed: list[PlacedOrder] = []
    for (currency, cycle), lines in groups.items():
        placed_lines = [
            PlacedLine(number=number, line=line, subscription_id=new_id(), entitlement_id=new_id(),
                       effective_start=now, commitment_end=term_end(now, line.term_duration))
            for number, line in enumerate(lines)
        ]
        placed.append(PlacedOrder(id=new_id(), billing_cycle=cycle, currency=currency,
                                  total=sum((line.total for line in lines), Decimal(0)), status="completed",
                                  created_at=now, lines=placed_lines))
    common = {"partner_id": customer.partner_id, "customer_id": customer.id}
    db.execute(insert(Order.__table__), [
        {"id": order.id, **common, "cart_id": cart_id, "billing_cycle": order.billing_cycle,
         "currency": order.currency, "total_price": order.total, "status": order.status, "created_at": now,
         "created_by": principal.email}
        for order in placed
    ])
    db.execute(insert(OrderLineItem.__table__), [
        {"order_id": order.id, "line_item_number": placed_line.number,
         "catalog_item_id": placed_line.line.item.catalog_item_id, "product_id": placed_line.line.item.product_id,
         "sku_id": placed_line.line.item.sku_id, "availability_id": placed_line.line.item.availability_id,
         "product_type_id": placed_line.line.item.product_type_id, "friendly_name": placed_line.line.friendly_name,
         "quantity": placed_line.line.quantity, "billing_cycle": placed_line.line.billing_cycle,
         "term_duration": placed_line.line.term_duration,
         "provisioning_context": placed_line.line.provisioning_context, "currency": order.currency,
         "unit_price": placed_line.line.item.unit_price, "total_price": placed_line.line.total,
         "subscription_id": placed_line.subscription_id}
        for order in placed for placed_line in order.lines
    ])
    db.execute(insert(Subscription.__table__), [
        {"id": placed_line.subscription_id, **common, "order_id": order.id, "line_item_number": placed_line.number,
         "offer_id": placed_line.line.item.catalog_item_id, "offer_name": placed_line.line.item.title,
         "product_type_id": placed_line.line.item.product_type_id, "friendly_name": placed_line.line.friendly_name,
         "quantity": placed_line.line.quantity, "unit_type": placed_line.line.item.unit_of_measure,
         "billing_cycle": placed_line.line.billing_cycle,
         "term_duration": placed_line.line.term_duration, "created_at": now,
         "effective_start": placed_line.effective_start, "commitment_end": placed_line.commitment_end}
        for order in placed for placed_line in order.lines
    ])
    db.execute(insert(Entitlement.__table__), [
        {"id": placed_line.entitlement_id, **common, "order_id": order.id, "line_item_number": placed_line.number,
         "subscription_id": placed_line.subscription_id, "product_id": placed_line.line.item.product_id,
         "sku_id": placed_line.line.item.sku_id, "entitlement_type": entitlement_type_of(placed_line.line),
         "quantity": placed_line.line.quantity, "created_at": now, "expiry_date": placed_line.commitment_end}
        for order in placed for placed_line in order.lines
    ])
    return placed


def entitlement_type_of(line: CheckedLine) -> str:
    return RESERVED_INSTANCE_ENTITLEMENT if line.item.is_reserved_instance else SOFTWARE_ENTITLEMENT


# --- the agent's open cart (the portal's "Add products", edit and review) -------------------------

@dataclass(frozen=True)
class CartLine:
    """A cart line as `check_lines` reads it: one kept from the cart, or one being added."""

    id: int | None
    catalog_item_id: str
    quantity: int
    billing_cycle: str
    term_duration: str | None
    friendly_name: str | None
    provisioning_context: dict[str, str]

    @classmethod
    def kept(cls, line: CartLineItem) -> CartLine:
        return cls(id=line.id, catalog_item_id=line.catalog_item_id, quantity=line.quantity,
                   billing_cycle=line.billing_cycle, term_duration=line.term_duration,
                   friendly_name=line.friendly_name or None,
                   provisioning_context=dict(line.provisioning_context or {}))


def _open_carts_statement(now: datetime) -> Select:
    return select(Cart).where(Cart.status == ACTIVE, Cart.expires_at > now)


def agents_open_cart(db: Session, *, principal: Principal, customer_id: str, now: datetime) -> Cart | None:
    """The open cart this agent last changed for this customer: the one "Add products" keeps filling,
    so that each visit does not leave another cart behind. None when the agent has no open cart."""
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    statement = (_open_carts_statement(now)
                 .where(Cart.customer_id == customer.id, Cart.updated_by == principal.email)
                 .order_by(Cart.updated_at.desc(), Cart.id).limit(1))
    return db.scalars(statement).first()


def search_open_carts(db: Session, *, principal: Principal, now: datetime, customer_id: str | None = None) -> Select:
    """Open carts (neither ordered nor expired) the principal may see, most recently changed first:
    one customer's, or every customer's of the partner (of every partner for the operator)."""
    statement = _open_carts_statement(now)
    if customer_id is not None:
        customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
        statement = statement.where(Cart.customer_id == customer.id)
    elif principal.partner_id is not None:
        statement = statement.where(Cart.partner_id == principal.partner_id)
    return statement.order_by(Cart.updated_at.desc(), Cart.id)


@dataclass(frozen=True)
class CartSummary:
    """What a list of carts shows of each: its lines and, while every line can still be bought, its total."""

    cart: Cart
    customer_name: str
    line_count: int
    quantity: int
    # Per currency; empty when a line can no longer be bought as it is (the review page says why).
    totals: dict[str, Decimal]


def summarise_carts(db: Session, *, principal: Principal, carts: Sequence[Cart], now: datetime) -> list[CartSummary]:
    summaries = []
    for cart in carts:
        customer = customers.get_customer(db, principal=principal, customer_id=cart.customer_id)
        lines = _cart_with_lines(db, customer=customer, cart_id=cart.id, for_update=False).lines
        summaries.append(CartSummary(cart=cart, customer_name=customer.company_name, line_count=len(lines),
                                     quantity=sum(line.quantity for line in lines),
                                     totals=cart_totals(db, customer=customer, lines=lines, now=now)))
    return summaries


def cart_totals(db: Session, *, customer: CustomerRef, lines: Sequence[LineInput], now: datetime) -> dict[str, Decimal]:
    """The cart's total per currency at today's prices; empty if a line can no longer be bought."""
    try:
        checked = check_lines(db, customer=customer, lines=lines, now=now)
    except DeskError:
        return {}
    totals: dict[str, Decimal] = {}
    for line in checked:
        totals[line.item.currency] = totals.get(line.item.currency, Decimal(0)) + line.total
    return totals


def add_to_agents_cart(
    db: Session, *, principal: Principal, customer_id: str, line: LineInput, now: datetime,
    cart_id: str | None = None,
) -> CartView:
    """Adds `line` to the cart named, else to the agent's open cart for the customer, else to a new cart.

    The line gets the next free id of the cart; the whole cart is checked again, as a PUT would be.
    """
    # The new line alone first: a refusal then names its own fields (lineItems[0]), not the cart's.
    customer = customers.get_customer(db, principal=principal, customer_id=customer_id)
    check_lines(db, customer=customer, lines=[with_line_id(line, 0)], now=now)
    if not cart_id:
        open_cart = agents_open_cart(db, principal=principal, customer_id=customer_id, now=now)
        cart_id = open_cart.id if open_cart is not None else None
    if cart_id is None:
        return create_cart(db, principal=principal, customer_id=customer_id, lines=[with_line_id(line, 0)], now=now)
    kept = [CartLine.kept(row) for row in get_cart(db, principal=principal, customer_id=customer_id,
                                                    cart_id=cart_id).lines]
    next_id = max((row.id for row in kept if row.id is not None), default=-1) + 1
    return update_cart(db, principal=principal, customer_id=customer_id, cart_id=cart_id,
                       lines=[*kept, with_line_id(line, next_id)], now=now)


def with_line_id(line: LineInput, line_id: int) -> CartLine:
    return CartLine(id=line_id, catalog_item_id=line.catalog_item_id, quantity=line.quantity,
                    billing_cycle=line.billing_cycle, term_duration=line.term_duration,
                    friendly_name=line.friendly_name, provisioning_context=dict(line.provisioning_context))


def _edited_lines(db: Session, *, principal: Principal, customer_id: str, cart_id: str, line_id: int) -> list[CartLine]:
    lines = [CartLine.kept(row) for row in get_cart(db, principal=principal, customer_id=customer_id,
                                                     cart_id=cart_id).lines]
    if all(line.id != line_id for line in lines):
        raise CartLineNotFound(f"Cart {cart_id} has no line {line_id}.", [f"lineItems.{line_id}"])
    return lines


def change_line_quantity(
    db: Session, *, principal: Principal, customer_id: str, cart_id: str, line_id: int, quantity: int, now: datetime
) -> CartView:
    """Sets one line's quantity; the catalog's bounds are checked as for any cart line."""
    lines = _edited_lines(db, principal=principal, customer_id=customer_id, cart_id=cart_id, line_id=line_id)
    changed = [replace(line, quantity=quantity) if line.id == line_id else line for line in lines]
    return update_cart(db, principal=principal, customer_id=customer_id, cart_id=cart_id, lines=changed, now=now)


def remove_cart_line(
    db: Session, *, principal: Principal, customer_id: str, cart_id: str, line_id: int, now: datetime
) -> CartView:
    """Removes one line; the cart stays open (even empty), so "Add products" still returns to it."""
    lines = _edited_lines(db, principal=principal, customer_id=customer_id, cart_id=cart_id, line_id=line_id)
    kept = [line for line in lines if line.id != line_id]
    return update_cart(db, principal=principal, customer_id=customer_id, cart_id=cart_id, lines=kept, now=now)


# --- reading purchases ---------------------------------------------------------------------------

RECURRING = "recurring"
ONE_TIME = "one_time"


# The orders, subscriptions and entitlements lists' order (newest first, then id), which keyset pages follow.
ORDER_LIST_ORDER = SortKey("orders", (Order.created_at, DESC), (Order.id, ASC))
SUBSCRIPTION_LIST_ORDER = SortKey("subscriptions", (Subscription.created_at, DESC), (Subscription.id, ASC))
ENTITLEMENT_LIST_ORDER = SortKey("entitlements", (Entitlement.created_at, DESC), (Entitlement.id, ASC))


def search_orders(
    db: Session, *, principal: Principal, customer_id: str, billing_type: str | None = None,
    billing_cycle: str | None = None,
) -> Select:
    customers.get_customer_ref(db, principal=principal, customer_id=customer_id)
    statement = select(Order).where(Order.customer_id == customer_id)
    if billing_type:
        kind = billing_type.strip().casefold().replace("-", "_")
        if kind in (ONE_TIME, "onetime"):
            statement = statement.where(Order.billing_cycle == ONE_TIME)
        elif kind == RECURRING:
            statement = statement.where(Order.billing_cycle != ONE_TIME)
        else:
            raise InvalidOrderFilter(f"billingType: '{billing_type}' is not one_time or recurring.", ["billingType"])
    if billing_cycle:
        cycle = canonical_billing_cycle(billing_cycle)
        if cycle is None:
            raise InvalidOrderFilter(f"billingCycle: '{billing_cycle}' is not a billing cycle.", ["billingCycle"])
        statement = statement.where(Order.billing_cycle == cycle)
    return statement.order_by(*ORDER_LIST_ORDER.clauses())


# What the API shows of an order's lines, on the table's columns: a page of the orders list reads 50
# orders' lines at once, and plain rows cost a fraction of ORM objects to load (bench/README.md).
_shown_line = OrderLineItem.__table__.c
_LINES_SHOWN = (
    select(_shown_line.order_id, _shown_line.line_item_number, _shown_line.catalog_item_id, _shown_line.product_id,
           _shown_line.sku_id, _shown_line.availability_id, _shown_line.friendly_name, _shown_line.quantity,
           _shown_line.term_duration, _shown_line.billing_cycle, _shown_line.subscription_id,
           _shown_line.provisioning_context, _shown_line.unit_price, _shown_line.total_price, _shown_line.currency,
           _shown_line.status, _shown_line.credited_amount)
    .where(_shown_line.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(_shown_line.order_id, _shown_line.line_item_number)
)


def lines_shown(db: Session, order_ids: Sequence[str]) -> dict[str, list[Row]]:
    """The lines of each order, read only to be shown (`presenters.order_out` takes them)."""
    found: dict[str, list[Row]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        for line in db.execute(_LINES_SHOWN, {"order_ids": list(order_ids)}):
            found[line.order_id].append(line)
    return found


def lines_of_orders(db: Session, order_ids: Sequence[str]) -> dict[str, list[OrderLineItem]]:
    found: dict[str, list[OrderLineItem]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        statement = (select(OrderLineItem).where(OrderLineItem.order_id.in_(list(order_ids)))
                     .order_by(OrderLineItem.order_id, OrderLineItem.line_item_number))
        for line in db.scalars(statement):
            found[line.order_id].append(line)
    return found


def get_order(db: Session, *, principal: Principal, customer_id: str, order_id: str) -> Order:
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    order = db.get(Order, order_id)
    if order is None or order.customer_id != customer_id:
        raise OrderNotFound(f"Customer {customer_id} has no order {order_id}.", [order_id])
    return order


def search_subscriptions(db: Session, *, principal: Principal, customer_id: str) -> Select:
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    return (select(Subscription).where(Subscription.customer_id == customer_id)
            .order_by(*SUBSCRIPTION_LIST_ORDER.clauses()))


def get_subscription(db: Session, *, principal: Principal, customer_id: str, subscription_id: str) -> Subscription:
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    subscription = db.get(Subscription, subscription_id)
    if subscription is None or subscription.customer_id != customer_id:
        raise SubscriptionNotFound(f"Customer {customer_id} has no subscription {subscription_id}.",
                                   [subscription_id])
    return subscription


def search_entitlements(
    db: Session, *, principal: Principal, customer_id: str, entitlement_type: str | None = None
) -> Select:
    customers.get_customer(db, principal=principal, customer_id=customer_id)
    statement = select(Entitlement).where(Entitlement.customer_id == customer_id)
    if entitlement_type:
        folded = {kind.casefold(): kind for kind in ENTITLEMENT_TYPES}
        kind = folded.get(entitlement_type.strip().casefold())
        if kind is None:
            raise InvalidOrderFilter(
                f"entitlementType: '{entitlement_type}' is not one of: {', '.join(ENTITLEMENT_TYPES)}.",
                ["entitlementType"],
            )
        statement = statement.where(Entitlement.entitlement_type == kind)
    return statement.order_by(*ENTITLEMENT_LIST_ORDER.clauses())


# --- software purchases (what the software domain hands out keys and downloads for) --------------

@dataclass(frozen=True)
class SoftwarePurchase:
    entitlement_id: str
    partner_id: str
    customer_id: str
    order_id: str
    line_item_number: int
    subscription_id: str
    product_id: str
    sku_id: str
    title: str
    purchase_date: datetime
    quantity: int
    # "active", or "revoked" once the line was cancelled (rule R5).
    status: str


_entitlement = Entitlement.__table__.c
_order_line = OrderLineItem.__table__.c
_SOFTWARE_PURCHASES = (
    select(_entitlement.id, _entitlement.partner_id, _entitlement.customer_id, _entitlement.order_id,
           _entitlement.line_item_number, _entitlement.subscription_id, _entitlement.product_id,
           _entitlement.sku_id, _order_line.friendly_name, _entitlement.created_at, _entitlement.quantity,
           _entitlement.status)
    .join_from(Entitlement.__table__, OrderLineItem.__table__,
               (_order_line.order_id == _entitlement.order_id)
               & (_order_line.line_item_number == _entitlement.line_item_number))
    .where(_entitlement.customer_id == bindparam("customer_id"),
           _entitlement.entitlement_type == SOFTWARE_ENTITLEMENT)
    .order_by(_entitlement.created_at.desc(), _entitlement.order_id, _entitlement.line_item_number)
)


def software_purchases(db: Session, *, customer_id: str, entitlement_id: str | None = None,
                       lock: bool = False) -> list[SoftwarePurchase]:
    """The customer's software purchases, newest first (or the one named). `lock` holds the entitlement
    row until the transaction ends, so two requests for one purchase's keys run one after the other."""
    statement = _SOFTWARE_PURCHASES
    if entitlement_id is not None:
        statement = statement.where(_entitlement.id == entitlement_id)
    if lock:
        statement = statement.with_for_update(of=Entitlement.__table__)
    return [SoftwarePurchase(*row) for row in db.execute(statement, {"customer_id": customer_id})]


# --- every purchase of a partner (the portal's Orders and Subscriptions views) ---------------------

ORDER_STATUSES = ("pending", "completed", "cancelled")
SUBSCRIPTION_STATUSES = ("active", "suspended", "deleted", "expired")


@dataclass(frozen=True)
class PurchaseSearch:
    """What a cross-customer list of orders or subscriptions is narrowed to; each part is optional."""

    status: str | None = None
    # Text found in the customer's company name or domain, as the customer search finds it.
    customer_text: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    # The operator's choice of one partner; agents always see their own partner's only.
    partner_id: str | None = None


def _partner_purchases(principal: Principal, model: type[Order] | type[Subscription], criteria: PurchaseSearch,
                       statuses: tuple[str, ...]) -> Select:
    statement = select(model)
    if not principal.is_operator:
        statement = statement.where(model.partner_id == principal.partner_id)
    elif criteria.partner_id:
        statement = statement.where(model.partner_id == criteria.partner_id)
    if criteria.status:
        if criteria.status not in statuses:
            raise InvalidOrderFilter(f"status: '{criteria.status[:40]}' is not one of: {', '.join(statuses)}.",
                                     ["status"])
        statement = statement.where(model.status == criteria.status)
    if criteria.customer_text:
        statement = statement.where(model.customer_id.in_(customers.ids_matching(principal, criteria.customer_text)))
    if criteria.created_from:
        statement = statement.where(model.created_at >= criteria.created_from)
    if criteria.created_before:
        statement = statement.where(model.created_at < criteria.created_before)
    return statement.order_by(model.created_at.desc(), model.id)


def search_partner_orders(principal: Principal, criteria: PurchaseSearch) -> Select:
    """The orders of every customer of the principal's partner (the operator's: of every partner), newest first."""
    return _partner_purchases(principal, Order, criteria, ORDER_STATUSES)


def search_partner_subscriptions(principal: Principal, criteria: PurchaseSearch) -> Select:
    """The subscriptions of every customer of the principal's partner (the operator's: every partner's)."""
    return _partner_purchases(principal, Subscription, criteria, SUBSCRIPTION_STATUSES)
