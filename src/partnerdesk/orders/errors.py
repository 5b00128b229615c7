"""Cart and order errors (codes 30xx-34xx; Azure subscription and reservation errors are 35xx)."""

from __future__ import annotations

from partnerdesk.core.errors import DeskError


class CartNotFound(DeskError):
    status_code = 404
    code = 3000


class CartExpired(DeskError):
    status_code = 410
    code = 3001


class CartAlreadyCheckedOut(DeskError):
    """The cart was checked out (possibly by a concurrent request): it makes orders only once."""

    status_code = 409
    code = 3002


class InvalidLineItem(DeskError):
    """A cart line that is malformed in itself: duplicate id, unknown billing cycle, bad provisioning keys."""

    status_code = 400
    code = 3010


class QuantityOutOfRange(DeskError):
    status_code = 400
    code = 3011


class TermNotOffered(DeskError):
    status_code = 400
    code = 3012


class BillingCycleNotSupported(DeskError):
    status_code = 400
    code = 3013


class BuyerRequired(DeskError):
    """Only a partner's agents buy; the operator reads."""

    status_code = 403
    code = 3014


class OrderNotFound(DeskError):
    status_code = 404
    code = 3100


class SubscriptionNotFound(DeskError):
    status_code = 404
    code = 3101


class InvalidOrderFilter(DeskError):
    status_code = 400
    code = 3102


# Cancellation (rule R5)

class UnsupportedOrderChange(DeskError):
    """A PATCH of an order can only cancel lines of it."""

    status_code = 400
    code = 3110


class UnknownOrderLine(DeskError):
    status_code = 400
    code = 3111


# 3112 was "line already cancelled": cancelling a cancelled line is now an idempotent answer, as in
# Partner Center. The code stays retired, never reused.


class CancellationWindowClosed(DeskError):
    """Rule R5: a purchase may be cancelled up to the policy's number of days after it was made, never after."""

    status_code = 409
    code = 3113


class CancellerRequired(DeskError):
    """Rule R5: only a partner's admin agent cancels a purchase."""

    status_code = 403
    code = 3114


class CartLineNotFound(DeskError):
    """The portal edits one line of a cart by its id; a line removed meanwhile (another tab) is gone."""

    status_code = 404
    code = 3250


class EmptyCart(DeskError):
    """A cart whose lines were all removed orders nothing; checking it out would make no order."""

    status_code = 400
    code = 3251
