"""The operator's queue of refund requests (rule R6): approve (cancel and credit) or reject, once.

Approval cancels the lines the request names with the direct cancel's own code
(`orders.cancellation.cancel_for_refund`): keys are revoked, download links die, subscriptions end, and
the partner is credited the amount approved, all of it or part. Inside rule R5's window that is all;
after it the operator must give an override reason, which the activity log, the webhook event and the
request's notes keep.

One decision per request: the request row is locked first, so of two approvals the second finds the
decision made. An approval racing a direct cancel of the same line credits once, because both then
lock the order row and the later one finds the line cancelled and credited.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.core.errors import Forbidden
from partnerdesk.core.money import money_str
from partnerdesk.orders import cancellation
from partnerdesk.orders.errors import CancellationWindowClosed
from partnerdesk.orders.service import lines_of_orders
from partnerdesk.support import events, mail
from partnerdesk.support.errors import (
    InvalidRefundDecision,
    NotARefundRequest,
    RefundAlreadyDecided,
    RefundNothingToCredit,
    RefundWindowClosed,
    ServiceRequestClosed,
)
from partnerdesk.support.models import (
    DECISION_APPROVED,
    DECISION_REJECTED,
    STATUS_CLOSED,
    RefundRequest,
    ServiceRequest,
    ServiceRequestNote,
)
from partnerdesk.support.service import ServiceRequestView, get_request, parse_refund_amount, visible_request

MAX_TEXT = 2000


def _undecided(db: Session, principal: Principal, request_id: str) -> tuple[ServiceRequest, RefundRequest]:
    if not principal.is_operator:
        raise Forbidden("Only the operator decides refund requests (rule R6).", [principal.role.value])
    request = visible_request(db, principal, request_id, for_update=True)
    refund = db.get(RefundRequest, request.id)
    if refund is None:
        raise NotARefundRequest(f"Service request {request.id} asks for no refund; there is nothing to approve or "
                                "reject.", [request.id])
    if refund.decision is not None:
        raise RefundAlreadyDecided(
            f"The refund request {request.id} was {refund.decision} on {refund.decided_at:%Y-%m-%d %H:%M} UTC by "
            f"{refund.decided_by}; a refund is decided once.", [request.id, refund.decision])
    if request.status == STATUS_CLOSED:
        raise ServiceRequestClosed(f"Service request {request.id} was closed by its partner; it can no longer be "
                                   "decided.", [request.id])
    return request, refund


def _optional_text(value: str | None, field: str) -> str | None:
    text = value.strip() if value is not None else ""
    if len(text) > MAX_TEXT:
        raise InvalidRefundDecision(f"{field}: at most {MAX_TEXT} characters.", [field])
    return text or None


def _close(db: Session, *, principal: Principal, request: ServiceRequest, note: str, now: datetime) -> None:
    db.add(ServiceRequestNote(service_request_id=request.id, created_by_name=principal.display_name
                              or principal.email, created_at=now, text=note))
    request.status = STATUS_CLOSED
    request.closed_at = now
    request.updated_at = now
    db.flush()
    mail.queue_status_email(db, request, now=now, note=note)


def approve(db: Session, *, principal: Principal, request_id: str, amount: str | None, note: str | None,
            override_reason: str | None, now: datetime, request_id_header: str | None = None) -> ServiceRequestView:
    """Approves the refund: cancels its lines and credits `amount` (by default what was asked)."""
    request, refund = _undecided(db, principal, request_id)
    approved = parse_refund_amount(amount, field="amount") if amount is not None else refund.amount
    if approved > refund.amount:
        raise InvalidRefundDecision(
            f"amount: {money_str(approved, refund.currency)} {refund.currency} is more than the "
            f"{money_str(refund.amount, refund.currency)} {refund.currency} the request asks for.",
            ["amount", money_str(refund.amount, refund.currency)])
    note_text, override = _optional_text(note, "note"), _optional_text(override_reason, "overrideReason")
    try:
        done = cancellation.cancel_for_refund(
            db, principal=principal, customer_id=refund.customer_id, order_id=refund.order_id,
            line_numbers=[refund.line_item_number] if refund.line_item_number is not None else None,
            amount=approved, override_reason=override, reason=f"Refund request {request.id}: {refund.reason}",
            now=now, request_id=request_id_header)
    except CancellationWindowClosed as error:
        raise RefundWindowClosed(
            f"{error.description} To approve the refund anyway, give overrideReason; it is recorded.",
            [*error.data, "overrideReason"]) from None
    if not done.cancelled:
        raise RefundNothingToCredit(
            f"Every line this refund names is already cancelled and credited (order {refund.order_id}); nothing is "
            "left to credit. Reject or close the request.", [refund.order_id])
    refund.decision, refund.decided_at, refund.decided_by = DECISION_APPROVED, now, principal.email
    refund.approved_amount, refund.credited_amount = approved, done.credit
    refund.decision_note, refund.override_reason = note_text, override if _window_passed(db, done, now) else None
    credited = f"{money_str(done.credit, refund.currency)} {refund.currency}"
    text = f"Refund approved: {credited} credited for order {refund.order_id}" + (
        f", subscription {refund.subscription_id}" if refund.subscription_id else "") + "."
    if refund.override_reason:
        text += f" Approved after the cancellation window: {refund.override_reason}"
    if note_text:
        text += f"\n{note_text}"
    _close(db, principal=principal, request=request, note=text, now=now)
    details = {"approvedAmount": money_str(approved, refund.currency), "creditedAmount": money_str(done.credit,
               refund.currency), "currencyCode": refund.currency, "orderId": refund.order_id,
               "subscriptionId": refund.subscription_id, "overrideReason": refund.override_reason}
    audit.record(db, principal=principal, now=now, action="refundrequest.approved", object_type="ServiceRequest",
                 object_id=request.id, partner_id=request.partner_id, customer_id=request.customer_id,
                 request_id=request_id_header, details=details)
    events.refund_decided(db, request=request, event_type=events.REFUND_APPROVED, data=details, now=now)
    return get_request(db, principal=principal, request_id=request.id)


def _window_passed(db: Session, done: cancellation.Cancellation, now: datetime) -> bool:
    return now > cancellation.cancellation_deadline(db, done.order)


def reject(db: Session, *, principal: Principal, request_id: str, reason: str | None, now: datetime,
           request_id_header: str | None = None) -> ServiceRequestView:
    """Rejects the refund with the reason the partner will read; nothing is cancelled or credited."""
    request, refund = _undecided(db, principal, request_id)
    text = _optional_text(reason, "reason")
    if text is None:
        raise InvalidRefundDecision("reason: say why the refund is rejected; the partner reads it.", ["reason"])
    refund.decision, refund.decided_at, refund.decided_by, refund.decision_note = DECISION_REJECTED, now, \
        principal.email, text
    _close(db, principal=principal, request=request, note=f"Refund rejected: {text}", now=now)
    details = {"orderId": refund.order_id, "subscriptionId": refund.subscription_id, "reason": text}
    audit.record(db, principal=principal, now=now, action="refundrequest.rejected", object_type="ServiceRequest",
                 object_id=request.id, partner_id=request.partner_id, customer_id=request.customer_id,
                 request_id=request_id_header, details=details)
    events.refund_decided(db, request=request, event_type=events.REFUND_REJECTED, data=details, now=now)
    return get_request(db, principal=principal, request_id=request.id)


def amount_left(db: Session, refund: RefundRequest) -> Decimal:
    """What the refund's lines cost and was not yet credited, as the operator's queue shows it."""
    lines = lines_of_orders(db, [refund.order_id])[refund.order_id]
    if refund.line_item_number is not None:
        lines = [line for line in lines if line.line_item_number == refund.line_item_number]
    return cancellation.refundable_amount(lines)
