"""Tables of the support domain: service requests, their notes, and the refund a request asks for (rule R6)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, MoneyAmount, UTCDateTime, new_id

STATUS_OPEN = "open"
STATUS_ATTENTION_NEEDED = "attention_needed"
STATUS_CLOSED = "closed"
STATUSES = (STATUS_OPEN, STATUS_ATTENTION_NEEDED, STATUS_CLOSED)

DECISION_APPROVED = "approved"
DECISION_REJECTED = "rejected"


class ServiceRequest(Base):
    """A support request of one partner ("Report a problem"), on one support topic."""

    __tablename__ = "service_requests"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    # The customer the request is about, when it names one (a refund request always does).
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    support_topic_id: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # "minimal", "moderate" or "critical".
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default=STATUS_OPEN)
    agent_locale: Mapped[str] = mapped_column(String(16))
    country_code: Mapped[str | None] = mapped_column(String(2))
    contact_first_name: Mapped[str] = mapped_column(String(100))
    contact_last_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(320))
    contact_phone_number: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The service requests list's keyset order (newest first, then id): a partner's, a customer's, the operator's.
Index("ix_service_requests_partner_list", ServiceRequest.partner_id, ServiceRequest.created_at.desc(),
      ServiceRequest.id)
Index("ix_service_requests_customer_list", ServiceRequest.customer_id, ServiceRequest.created_at.desc(),
      ServiceRequest.id)
Index("ix_service_requests_list", ServiceRequest.created_at.desc(), ServiceRequest.id)


class ServiceRequestNote(Base):
    __tablename__ = "service_request_notes"
    __table_args__ = (Index("ix_service_request_notes_request", "service_request_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    service_request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.id"))
    created_by_name: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)


class RefundRequest(Base):
    """The four items of rule R6, checked against the purchase when the request was filed."""

    __tablename__ = "refund_requests"

    service_request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    customer_domain: Mapped[str] = mapped_column(String(253))
    order_id: Mapped[str] = mapped_column(IdColumn())
    # Set when the request names one subscription (one order line); none for the whole order.
    subscription_id: Mapped[str | None] = mapped_column(IdColumn())
    line_item_number: Mapped[int | None] = mapped_column(Integer)
    # "purchased_by_mistake", "wrong_product", "customer_cancelled" or "other".
    reason: Mapped[str] = mapped_column(String(32))
    reason_details: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[Decimal] = mapped_column(MoneyAmount())
    currency: Mapped[str] = mapped_column(String(3))
    # The operator's decision (the operator queue): none while the request waits.
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(320))
    # What the operator approved, and what was credited (less when part was already credited).
    approved_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    credited_amount: Mapped[Decimal | None] = mapped_column(MoneyAmount())
    decision_note: Mapped[str | None] = mapped_column(Text)
    # Set when the operator approved after the cancellation window closed (rule R5 overridden, recorded).
    override_reason: Mapped[str | None] = mapped_column(Text)


class ServiceRequestAttachment(Base):
    """A file added to a request; its bytes live in the file store under `storage_key`, like installation files."""

    __tablename__ = "service_request_attachments"
    __table_args__ = (Index("ix_service_request_attachments_request", "service_request_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    service_request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.id"))
    # Sanitised: no folder part, no control character, at most 255 characters.
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Its place among the files sent together, so a request lists them in the order they were sent.
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(320))


class SupportEmail(Base):
    """An email to a request's contact about a status change, sent by a job and marked when sent."""

    __tablename__ = "support_emails"
    __table_args__ = (Index("ix_support_emails_request", "service_request_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    service_request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.id"))
    status: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
