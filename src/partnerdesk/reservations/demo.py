"""Demo data: an Azure plan subscription, registered for reservations, for each demo customer. Idempotent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnerdesk.accounts import service as accounts
from partnerdesk.customers.models import Customer
from partnerdesk.reservations import service
from partnerdesk.reservations.models import AzureSubscription

DEMO_ADMIN = "admin@contoso.example"


def load(db: Session, now: datetime, log: Callable[[str], None]) -> None:
    admin = accounts.principal_of(accounts.get_agent_by_email(db, DEMO_ADMIN))
    without = db.scalars(
        select(Customer)
        .where(Customer.partner_id == admin.partner_id, ~Customer.id.in_(select(AzureSubscription.customer_id)))
        .order_by(Customer.domain)
    ).all()
    for customer in without:
        subscription = service.create_azure_subscription(
            db, principal=admin, customer_id=customer.id, friendly_name=f"{customer.company_name} production",
            now=now,
        )
        service.register_for_reservations(
            db, principal=admin, customer_id=customer.id, subscription_id=subscription.id, now=now
        )
    if without:
        log(f"demo: {len(without)} Azure plan subscription(s) added")
