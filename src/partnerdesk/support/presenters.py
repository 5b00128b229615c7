"""Service requests in their API shape."""

from __future__ import annotations

from partnerdesk.core.money import money_str
from partnerdesk.core.schemas import Link
from partnerdesk.support.models import RefundRequest, ServiceRequestAttachment
from partnerdesk.support.schemas import (
    AttachmentOut,
    ContactOut,
    NoteOut,
    OrganizationOut,
    RefundRequestOut,
    ServiceRequestOut,
    SupportTopicOut,
)
from partnerdesk.support.service import ServiceRequestView, SupportTopic, support_topic


def topic_out(topic: SupportTopic) -> SupportTopicOut:
    return SupportTopicOut(id=topic.id, name=topic.name, description=topic.description)


def _money(amount, currency: str) -> str | None:
    return money_str(amount, currency) if amount is not None else None


def refund_out(refund: RefundRequest) -> RefundRequestOut:
    return RefundRequestOut(customer_domain=refund.customer_domain, customer_tenant_id=refund.customer_id,
                            order_id=refund.order_id, subscription_id=refund.subscription_id, reason=refund.reason,
                            reason_details=refund.reason_details, amount=money_str(refund.amount, refund.currency),
                            currency=refund.currency, decision=refund.decision, decided_date=refund.decided_at,
                            decided_by=refund.decided_by, approved_amount=_money(refund.approved_amount,
                                                                                 refund.currency),
                            credited_amount=_money(refund.credited_amount, refund.currency),
                            decision_note=refund.decision_note, override_reason=refund.override_reason)


def attachment_out(row: ServiceRequestAttachment) -> AttachmentOut:
    return AttachmentOut(id=row.id, file_name=row.file_name, content_type=row.content_type, size=row.size,
                         created_date=row.created_at, created_by=row.created_by,
                         links={"self": Link(uri=f"/v1/servicerequests/{row.service_request_id}/attachments/{row.id}")})


def service_request_out(view: ServiceRequestView) -> ServiceRequestOut:
    request = view.request
    return ServiceRequestOut(
        id=request.id, title=request.title, description=request.description, severity=request.severity,
        support_topic_id=request.support_topic_id, support_topic_name=support_topic(request.support_topic_id).name,
        status=request.status, agent_locale=request.agent_locale, country_code=request.country_code,
        customer_id=request.customer_id, created_date=request.created_at, last_updated_date=request.updated_at,
        last_closed_date=request.closed_at,
        organization=OrganizationOut(id=request.partner_id, name=view.organization_name),
        primary_contact=ContactOut(first_name=request.contact_first_name, last_name=request.contact_last_name,
                                   email=request.contact_email, phone_number=request.contact_phone_number),
        notes=[NoteOut(created_by_name=note.created_by_name, created_date=note.created_at, text=note.text)
               for note in view.notes],
        attachments=[attachment_out(row) for row in view.attachments],
        refund_request=refund_out(view.refund) if view.refund is not None else None,
        links={"self": Link(uri=f"/v1/servicerequests/{request.id}")},
    )


def service_request_json(view: ServiceRequestView) -> dict:
    """The wire form: fields without a value (no country, no refund) are left out, as Partner Center does."""
    return service_request_out(view).model_dump(mode="json", exclude_none=True)
