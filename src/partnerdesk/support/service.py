"""The rules of service requests: who files and follows them, and what a refund request must carry (rule R6).

Admin and helpdesk agents file and follow their own partner's requests; the operator sees every
partner's, adds notes and sets any status. A request on the refund topic must carry the four items
of rule R6, each checked against the purchase, and only an admin agent files one. A refusal writes
nothing: every check runs before the first row is added.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale, UnknownLocaleError, localedata
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from partnerdesk.accounts import service as accounts
from partnerdesk.accounts.models import Partner, Role
from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.errors import DeskError, Forbidden, InvalidInput, NotFound
from partnerdesk.core.markets import normalise_country
from partnerdesk.core.money import money_str
from partnerdesk.core.pagination import ASC, DESC, SortKey
from partnerdesk.customers import service as customers
from partnerdesk.orders import service as orders
from partnerdesk.orders.cancellation import refundable_amount
from partnerdesk.orders.errors import OrderNotFound, SubscriptionNotFound
from partnerdesk.support import events, mail
from partnerdesk.support.errors import (
    InvalidLocale,
    InvalidRefundAmount,
    InvalidRefundReason,
    InvalidServiceRequest,
    InvalidServiceRequestChange,
    RefundAmountTooHigh,
    RefundCurrencyMismatch,
    RefundCustomerUnknown,
    RefundFilerRequired,
    RefundItemsMissing,
    RefundNotExpected,
    RefundPurchaseUnknown,
    ServiceRequestClosed,
    ServiceRequestNotFound,
    StatusChangeForbidden,
    UnknownSupportTopic,
)
from partnerdesk.support.models import (
    DECISION_APPROVED,
    DECISION_REJECTED,
    STATUS_CLOSED,
    STATUS_OPEN,
    STATUSES,
    RefundRequest,
    ServiceRequest,
    ServiceRequestAttachment,
    ServiceRequestNote,
)


@dataclass(frozen=True)
class SupportTopic:
    id: int
    name: str
    description: str


REFUND_TOPIC_ID = 1001
# Stable ids: clients store them. New topics get new ids; an id is never reused.
SUPPORT_TOPICS: tuple[SupportTopic, ...] = (
    SupportTopic(REFUND_TOPIC_ID, "CSP purchase/refund on behalf of customers",
                 "Cancel a purchase or ask for a refund for a customer (rule R6): name the customer, the order or "
                 "subscription, the reason and the amount."),
    SupportTopic(1002, "Orders and subscriptions", "Carts, checkout, orders and subscriptions of customers."),
    SupportTopic(1003, "Keys and downloads", "Product keys, installation files and download links."),
    SupportTopic(1004, "Billing and invoices", "Invoices, credit notes and billing exports."),
    SupportTopic(1005, "Account and access", "Agents, roles, sign-in and API tokens."),
    SupportTopic(1006, "Other", "Anything else about Partner Desk."),
)
_TOPICS_BY_ID = {topic.id: topic for topic in SUPPORT_TOPICS}

SEVERITIES = ("minimal", "moderate", "critical")
REFUND_REASONS = ("purchased_by_mistake", "wrong_product", "customer_cancelled", "other")
FILERS = (Role.admin_agent, Role.helpdesk_agent)
_LOCALE = re.compile(r"^[A-Za-z]{2,3}-[A-Za-z]{2}$")
# Read after strip(), so it never ends with a space; written so, the document's pattern admits only numbers
# the check accepts.
PHONE_PATTERN = r"^\+?[0-9][0-9 ().\-/]{1,37}[0-9().\-/]$"
_PHONE = re.compile(PHONE_PATTERN)


@dataclass(frozen=True)
class Contact:
    first_name: str
    last_name: str
    email: str
    phone_number: str


@dataclass(frozen=True)
class RefundItems:
    """A refund request as sent: every item may be missing."""

    customer_domain: str | None = None
    customer_tenant_id: str | None = None
    order_id: str | None = None
    subscription_id: str | None = None
    reason: str | None = None
    reason_details: str | None = None
    amount: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class NewServiceRequest:
    agent_locale: str
    title: str
    description: str
    severity: str
    support_topic_id: str | int
    contact: Contact
    country_code: str | None = None
    customer_id: str | None = None
    refund: RefundItems | None = None


@dataclass(frozen=True)
class ServiceRequestView:
    """A request with everything its API shape shows."""

    request: ServiceRequest
    organization_name: str
    notes: list[ServiceRequestNote]
    refund: RefundRequest | None
    attachments: list[ServiceRequestAttachment] = field(default_factory=list)


def support_topic(topic_id: str | int) -> SupportTopic:
    try:
        topic = _TOPICS_BY_ID.get(int(str(topic_id).strip()))
    except ValueError:
        topic = None
    if topic is None:
        raise UnknownSupportTopic(
            f"supportTopicId: '{topic_id}' is not a support topic; GET /v1/servicerequests/supporttopics lists them.",
            ["supportTopicId"])
    return topic


def _visible(principal: Principal, request: ServiceRequest | None, request_id: str) -> ServiceRequest:
    if request is None or not principal.can_see_partner(request.partner_id):
        raise ServiceRequestNotFound(f"No service request with id {request_id}.", [request_id])
    return request


def visible_request(db: Session, principal: Principal, request_id: str, *, for_update: bool = False) -> ServiceRequest:
    """The request, if the principal may follow it (another partner's is a 404); locked when `for_update`."""
    statement = select(ServiceRequest).where(ServiceRequest.id == request_id)
    return _visible(principal, db.scalar(statement.with_for_update() if for_update else statement), request_id)


# --- filing ---------------------------------------------------------------------------------------

def normalise_locale(agent_locale: str) -> str:
    try:
        if not _LOCALE.match(agent_locale):
            raise ValueError(agent_locale)
        locale = Locale.parse(agent_locale, sep="-")
    except (ValueError, UnknownLocaleError):
        raise InvalidLocale(f"agentLocale: '{agent_locale}' is not a locale such as en-US or fr-FR.",
                            ["agentLocale"]) from None
    if not locale.territory:
        raise InvalidLocale(f"agentLocale: '{agent_locale}' needs a country part, as in fr-FR.", ["agentLocale"])
    return f"{locale.language}-{locale.territory}"


def agent_locales() -> list[str]:
    """Every agentLocale `normalise_locale` accepts, in its canonical spelling (en-US), for the OpenAPI
    document: a client (or a fuzzer) that picks one from the list is never refused."""
    known = []
    for identifier in localedata.locale_identifiers():
        try:
            known.append(normalise_locale(identifier.replace("_", "-")))
        except InvalidLocale:
            continue
    return sorted(set(known))


def _severity(value: str) -> str:
    severity = value.strip().casefold()
    if severity not in SEVERITIES:
        raise InvalidServiceRequest(f"severity: '{value}' is not one of: {', '.join(SEVERITIES)}.", ["severity"])
    return severity


def _contact(contact: Contact) -> Contact:
    try:
        email = accounts.normalise_email(contact.email)
    except InvalidInput:
        raise InvalidServiceRequest(f"primaryContact.email: '{contact.email}' is not an email address.",
                                    ["primaryContact.email"]) from None
    phone = contact.phone_number.strip()
    if not _PHONE.match(phone):
        raise InvalidServiceRequest(
            f"primaryContact.phoneNumber: '{contact.phone_number}' is not a phone number such as +33 4 72 00 00 00.",
            ["primaryContact.phoneNumber"])
    names = {"primaryContact.firstName": contact.first_name.strip(),
             "primaryContact.lastName": contact.last_name.strip()}
    blank = [field for field, name in names.items() if not name]
    if blank:
        raise InvalidServiceRequest(f"{', '.join(blank)}: must not be blank.", blank)
    return Contact(names["primaryContact.firstName"], names["primaryContact.lastName"], email, phone)


def _country(code: str | None) -> str | None:
    if code is None or not code.strip():
        return None
    try:
        return normalise_country(code, field="countryCode")
    except DeskError as error:
        raise InvalidServiceRequest(error.description, ["countryCode"]) from None


def _text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidServiceRequest(f"{field}: must not be blank.", [field])
    return text


def file_request(db: Session, *, principal: Principal, new: NewServiceRequest, now: datetime,
                 request_id: str | None = None) -> ServiceRequestView:
    """Files a service request for the principal's partner; a refund request is checked first (rule R6)."""
    if principal.role not in FILERS or principal.partner_id is None:
        raise Forbidden("Only admin and helpdesk agents of a partner file service requests.", [principal.role.value])
    topic = support_topic(new.support_topic_id)
    is_refund = topic.id == REFUND_TOPIC_ID
    if is_refund and principal.role is not Role.admin_agent:
        raise RefundFilerRequired(
            f"Only an admin agent may file a refund request (topic '{topic.name}', rule R6); the "
            f"{principal.role.value} role may not.", [principal.role.value])
    if new.refund is not None and not is_refund:
        raise RefundNotExpected(
            f"refundRequest: only a request on topic {REFUND_TOPIC_ID} ('{_TOPICS_BY_ID[REFUND_TOPIC_ID].name}') "
            "carries a refund request.", ["refundRequest"])
    locale = normalise_locale(new.agent_locale)
    title, description = _text(new.title, "title"), _text(new.description, "description")
    severity, contact, country = _severity(new.severity), _contact(new.contact), _country(new.country_code)
    refund = check_refund(db, principal=principal, items=new.refund or RefundItems()) if is_refund else None
    customer_id = refund.customer_id if refund else _customer_of(db, principal, new.customer_id)
    if refund and new.customer_id is not None and new.customer_id != refund.customer_id:
        raise InvalidServiceRequest("customerId: is not the customer the refund request names.", ["customerId"])

    request = ServiceRequest(
        partner_id=principal.partner_id, customer_id=customer_id, support_topic_id=str(topic.id), title=title,
        description=description, severity=severity, status=STATUS_OPEN, agent_locale=locale, country_code=country,
        contact_first_name=contact.first_name, contact_last_name=contact.last_name, contact_email=contact.email,
        contact_phone_number=contact.phone_number, created_at=now, created_by=principal.email, updated_at=now)
    db.add(request)
    db.flush()
    if refund is not None:
        refund.service_request_id = request.id
        db.add(refund)
        db.flush()
    details: dict[str, Any] = {"supportTopicId": topic.id, "severity": severity}
    if refund is not None:
        details["refund"] = {"orderId": refund.order_id, "subscriptionId": refund.subscription_id,
                             "reason": refund.reason, "amount": money_str(refund.amount, refund.currency),
                             "currency": refund.currency}
    audit.record(db, principal=principal, now=now, action="servicerequest.created", object_type="ServiceRequest",
                 object_id=request.id, customer_id=customer_id, request_id=request_id, details=details)
    events.filed(db, request=request, now=now)
    mail.queue_status_email(db, request, now=now, filed=True)
    return _view(db, request)


def _customer_of(db: Session, principal: Principal, customer_id: str | None) -> str | None:
    if customer_id is None or not customer_id.strip():
        return None
    try:
        return customers.get_customer_ref(db, principal=principal, customer_id=customer_id.strip()).id
    except NotFound:
        raise InvalidServiceRequest(f"customerId: the partner has no customer {customer_id}.",
                                    ["customerId"]) from None


# --- refund requests (rule R6) --------------------------------------------------------------------

def _given(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def missing_refund_items(items: RefundItems) -> list[str]:
    """Every item rule R6 requires that `items` lacks, in the order the rule lists them."""
    missing = []
    if not (_given(items.customer_domain) or _given(items.customer_tenant_id)):
        missing.append("customerDomain or customerTenantId")
    if not (_given(items.order_id) or _given(items.subscription_id)):
        missing.append("orderId or subscriptionId")
    if not _given(items.reason):
        missing.append("reason")
    elif items.reason.strip().casefold() == "other" and not _given(items.reason_details):
        missing.append("reasonDetails")
    if not _given(items.amount):
        missing.append("amount")
    if not _given(items.currency):
        missing.append("currency")
    return missing


def check_refund(db: Session, *, principal: Principal, items: RefundItems) -> RefundRequest:
    """The refund request, checked against the purchase and not yet added to the session (rule R6)."""
    missing = missing_refund_items(items)
    if missing:
        raise RefundItemsMissing(
            "refundRequest: a refund request must carry the customer's domain or tenant id, the order or "
            f"subscription id, the reason and the amount with its currency (rule R6); missing: {', '.join(missing)}.",
            missing)
    reason = items.reason.strip().casefold()
    if reason not in REFUND_REASONS:
        raise InvalidRefundReason(f"refundRequest.reason: '{items.reason}' is not one of: {', '.join(REFUND_REASONS)}.",
                                  ["refundRequest.reason"])
    customer = _refund_customer(db, principal, items)
    order, line_number, subscription_id = _refund_purchase(db, principal, customer.id, items)
    lines = [line for line in orders.lines_of_orders(db, [order.id])[order.id]
             if line_number is None or line.line_item_number == line_number]
    # What an approval can still credit: a cancelled line is never credited again (rule R5), even when a
    # refund gave back only part of its price, so only the lines still held count.
    refundable = refundable_amount(lines)
    amount = parse_refund_amount(items.amount)
    currency = items.currency.strip().upper()
    if currency != order.currency:
        raise RefundCurrencyMismatch(
            f"refundRequest.currency: order {order.id} was paid in {order.currency}, not '{items.currency}'.",
            ["refundRequest.currency", order.currency])
    if amount > refundable:
        raise RefundAmountTooHigh(
            f"refundRequest.amount: {items.amount.strip()} {currency} is more than the "
            f"{money_str(refundable, currency)} {currency} paid for {_purchase_name(order.id, subscription_id)} "
            "and not yet credited (a line already cancelled is credited no more).",
            ["refundRequest.amount", money_str(refundable, currency)])
    return RefundRequest(customer_id=customer.id, customer_domain=customer.domain, order_id=order.id,
                         subscription_id=subscription_id, line_item_number=line_number, reason=reason,
                         reason_details=(items.reason_details or "").strip(), amount=amount, currency=currency)


def _purchase_name(order_id: str, subscription_id: str | None) -> str:
    return f"subscription {subscription_id}" if subscription_id else f"order {order_id}"


def _refund_customer(db: Session, principal: Principal, items: RefundItems) -> customers.CustomerRef:
    """The partner's customer the request names; another partner's customer is unknown, like a missing one."""
    domain, tenant_id = _given(items.customer_domain), _given(items.customer_tenant_id)
    found: customers.CustomerRef | None = None
    if tenant_id is not None:
        try:
            found = customers.get_customer_ref(db, principal=principal, customer_id=tenant_id)
        except NotFound:
            raise RefundCustomerUnknown(f"refundRequest.customerTenantId: the partner has no customer {tenant_id}.",
                                        ["refundRequest.customerTenantId", tenant_id]) from None
    if domain is not None:
        by_domain = _customer_by_domain(db, principal, domain)
        if by_domain is None:
            raise RefundCustomerUnknown(f"refundRequest.customerDomain: the partner has no customer {domain}.",
                                        ["refundRequest.customerDomain", domain])
        if found is not None and found.id != by_domain.id:
            raise RefundCustomerUnknown(
                f"refundRequest: customer {tenant_id} does not have the domain {domain}.",
                ["refundRequest.customerDomain", "refundRequest.customerTenantId"])
        found = by_domain
    assert found is not None  # one of the two was given (missing_refund_items)
    return found


def _customer_by_domain(db: Session, principal: Principal, domain: str) -> customers.CustomerRef | None:
    try:
        wanted = customers.normalise_domain(domain)
    except DeskError:
        return None
    for customer in db.scalars(customers.search(principal, customers.CustomerSearch(domain_prefix=wanted))):
        if customer.domain == wanted:
            return customers.get_customer_ref(db, principal=principal, customer_id=customer.id)
    return None


def _refund_purchase(db: Session, principal: Principal, customer_id: str, items: RefundItems):
    """(order, line number or None, subscription id or None) of the customer's purchase the request names."""
    order_id, subscription_id = _given(items.order_id), _given(items.subscription_id)
    line_number = None
    if subscription_id is not None:
        try:
            subscription = orders.get_subscription(db, principal=principal, customer_id=customer_id,
                                                   subscription_id=subscription_id)
        except (NotFound, SubscriptionNotFound):
            raise RefundPurchaseUnknown(
                f"refundRequest.subscriptionId: the customer has no subscription {subscription_id}.",
                ["refundRequest.subscriptionId", subscription_id]) from None
        if order_id is not None and order_id != subscription.order_id:
            raise RefundPurchaseUnknown(
                f"refundRequest: subscription {subscription_id} was not bought with order {order_id}.",
                ["refundRequest.orderId", "refundRequest.subscriptionId"])
        order_id, line_number = subscription.order_id, subscription.line_item_number
    try:
        order = orders.get_order(db, principal=principal, customer_id=customer_id, order_id=order_id)
    except (NotFound, OrderNotFound):
        raise RefundPurchaseUnknown(f"refundRequest.orderId: the customer has no order {order_id}.",
                                    ["refundRequest.orderId", order_id]) from None
    return order, line_number, subscription_id


def parse_refund_amount(text: str, *, field: str = "refundRequest.amount") -> Decimal:
    """A positive amount of at most 4 decimal places, from its decimal string."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise InvalidRefundAmount(f"{field}: '{text}' is not an amount such as \"1234.56\".", [field])
    if amount <= 0:
        raise InvalidRefundAmount(f"{field}: {text.strip()} is not a positive amount.", [field])
    if _decimal_places(amount) > 4:
        raise InvalidRefundAmount(f"{field}: {text.strip()} is not an amount with at most 4 decimal places.", [field])
    return amount


# --- reading --------------------------------------------------------------------------------------

def _views(db: Session, requests: Sequence[ServiceRequest]) -> list[ServiceRequestView]:
    """The requests with their notes, refunds and partner names, read in one query each."""
    ids = [request.id for request in requests]
    notes: dict[str, list[ServiceRequestNote]] = {request_id: [] for request_id in ids}
    refunds: dict[str, RefundRequest] = {}
    if ids:
        for note in db.scalars(select(ServiceRequestNote).where(ServiceRequestNote.service_request_id.in_(ids))
                               .order_by(ServiceRequestNote.created_at, ServiceRequestNote.id)):
            notes[note.service_request_id].append(note)
        refunds = {refund.service_request_id: refund for refund in
                   db.scalars(select(RefundRequest).where(RefundRequest.service_request_id.in_(ids)))}
    # One query for the page's partners (the operator's page names up to one partner per request).
    partner_names: dict[str, str] = dict(db.execute(
        select(Partner.id, Partner.name).where(Partner.id.in_({request.partner_id for request in requests}))).all())
    files: dict[str, list[ServiceRequestAttachment]] = {request_id: [] for request_id in ids}
    if ids:
        for row in db.scalars(select(ServiceRequestAttachment)
                              .where(ServiceRequestAttachment.service_request_id.in_(ids))
                              .order_by(ServiceRequestAttachment.created_at, ServiceRequestAttachment.position,
                                        ServiceRequestAttachment.id)):
            files[row.service_request_id].append(row)
    return [ServiceRequestView(request=request, organization_name=partner_names[request.partner_id],
                               notes=notes[request.id], refund=refunds.get(request.id), attachments=files[request.id])
            for request in requests]


def _view(db: Session, request: ServiceRequest) -> ServiceRequestView:
    return _views(db, [request])[0]


def views_of(db: Session, requests: Sequence[ServiceRequest]) -> list[ServiceRequestView]:
    return _views(db, requests)


def get_request(db: Session, *, principal: Principal, request_id: str) -> ServiceRequestView:
    return _view(db, _visible(principal, db.get(ServiceRequest, request_id), request_id))


@dataclass(frozen=True)
class RequestFilter:
    status: str | None = None
    support_topic_id: str | None = None
    customer_id: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    # The operator's queue: "pending" (a refund request not yet decided), "approved" or "rejected".
    refund_decision: str | None = None


REFUND_DECISIONS = ("pending", DECISION_APPROVED, DECISION_REJECTED)


def _utc(value: datetime, field: str) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidServiceRequest(f"{field}: {value} is out of range.", [field]) from None


# The service requests list's order (newest first, then id), which its keyset pages follow.
REQUEST_LIST_ORDER = SortKey("servicerequests", (ServiceRequest.created_at, DESC), (ServiceRequest.id, ASC))


def search_requests(db: Session, *, principal: Principal, filters: RequestFilter) -> Select:
    """The requests the principal may see (its partner's; every partner's for the operator), newest first."""
    statement = select(ServiceRequest)
    if not principal.is_operator:
        statement = statement.where(ServiceRequest.partner_id == principal.partner_id)
    if filters.status:
        status = filters.status.strip().casefold()
        if status not in STATUSES:
            raise InvalidServiceRequest(f"status: '{filters.status}' is not one of: {', '.join(STATUSES)}.",
                                        ["status"])
        statement = statement.where(ServiceRequest.status == status)
    if filters.support_topic_id:
        topic = support_topic(filters.support_topic_id)
        statement = statement.where(ServiceRequest.support_topic_id == str(topic.id))
    if filters.customer_id:
        customers.get_customer(db, principal=principal, customer_id=filters.customer_id)
        statement = statement.where(ServiceRequest.customer_id == filters.customer_id)
    if filters.start_date:
        statement = statement.where(ServiceRequest.created_at >= _utc(filters.start_date, "startDate"))
    if filters.end_date:
        statement = statement.where(ServiceRequest.created_at <= _utc(filters.end_date, "endDate"))
    if filters.refund_decision:
        decision = filters.refund_decision.strip().casefold()
        if decision not in REFUND_DECISIONS:
            raise InvalidServiceRequest(
                f"refundDecision: '{filters.refund_decision}' is not one of: {', '.join(REFUND_DECISIONS)}.",
                ["refundDecision"])
        refunds = select(RefundRequest.service_request_id).where(
            RefundRequest.decision.is_(None) if decision == "pending" else RefundRequest.decision == decision)
        statement = statement.where(ServiceRequest.id.in_(refunds))
    return statement.order_by(*REQUEST_LIST_ORDER.clauses())


# --- following up: notes and status ---------------------------------------------------------------

def update_request(db: Session, *, principal: Principal, request_id: str, note: str | None, status: str | None,
                   now: datetime, request_id_header: str | None = None) -> ServiceRequestView:
    """Adds a note, changes the status, or both. Agents may close their requests; the operator sets any status.
    A status equal to the current one changes nothing (clients send back the request as they read it)."""
    wanted = _status(status)
    text = note.strip() if note is not None else None
    if text == "":
        raise InvalidServiceRequestChange("newNote.text: must not be blank.", ["newNote.text"])
    if text is None and wanted is None:
        raise InvalidServiceRequestChange(
            'Send a note ({"newNote": {"text": "..."}}), a status ({"status": "closed"}), or both.',
            ["newNote", "status"])
    request = _visible(principal, db.scalar(select(ServiceRequest).where(ServiceRequest.id == request_id)
                                            .with_for_update()), request_id)
    new_status = wanted if wanted is not None and wanted != request.status else None
    if new_status not in (None, STATUS_CLOSED) and not principal.is_operator:
        raise StatusChangeForbidden(
            f"status: agents may only close a request; '{new_status}' is set by the operator.", ["status"])
    if request.status == STATUS_CLOSED and text is not None and new_status is None:
        raise ServiceRequestClosed(f"Service request {request.id} is closed; it takes no more notes.", [request.id])
    if text is None and new_status is None:
        return _view(db, request)
    log = _activity(db, principal=principal, request=request, now=now, request_id=request_id_header)
    if text is not None:
        db.add(ServiceRequestNote(service_request_id=request.id, created_by_name=principal.display_name
                                  or principal.email, created_at=now, text=text))
        log("servicerequest.note_added", {"length": len(text)})
    if new_status is not None:
        log("servicerequest.status_changed", {"from": request.status, "to": new_status})
        request.status = new_status
        request.closed_at = now if new_status == STATUS_CLOSED else request.closed_at
    request.updated_at = now
    db.flush()
    events.updated(db, request=request, change="status_changed" if new_status else "note_added", now=now)
    if new_status is not None:
        mail.queue_status_email(db, request, now=now, note=text)
    return _view(db, request)


def _status(status: str | None) -> str | None:
    if status is None:
        return None
    wanted = status.strip().casefold()
    if wanted not in STATUSES:
        raise InvalidServiceRequestChange(f"status: '{status}' is not one of: {', '.join(STATUSES)}.", ["status"])
    return wanted


def _activity(db: Session, *, principal: Principal, request: ServiceRequest, now: datetime, request_id: str | None):
    def log(action: str, details: dict[str, Any]) -> None:
        audit.record(db, principal=principal, now=now, action=action, object_type="ServiceRequest",
                     object_id=request.id, partner_id=request.partner_id, customer_id=request.customer_id,
                     request_id=request_id, details=details)
    return log


def _decimal_places(amount: Decimal) -> int:
    """Exactly, without the decimal context (which would round 1e-99999 to 0): "1.2300" has 2."""
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # a finite amount
    while digits and digits[-1] == 0 and exponent < 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(0, -exponent)
