"""Service requests, Partner Center shaped (`/v1/servicerequests`), and refund requests filed through them (R6).

Admin and helpdesk agents file and follow their own partner's requests (only admin agents file refund
requests); the operator reads every partner's, adds notes and sets their status. Sales agents and
billing admins have no part in support.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.core.idempotency import run_once
from partnerdesk.core.pagination import PageRequest, page_params, paginate, to_collection
from partnerdesk.core.schemas import Collection
from partnerdesk.core.wire_types import IsoDateTime
from partnerdesk.customers import service as customers
from partnerdesk.software.storage import open_storage
from partnerdesk.support import attachments, presenters, refunds, service
from partnerdesk.support.schemas import (
    AttachmentOut,
    RefundApprovalIn,
    RefundRejectionIn,
    ServiceRequestIn,
    ServiceRequestOut,
    ServiceRequestPatchIn,
    SupportTopicOut,
)

router = APIRouter(tags=["support"])

FILERS = (Role.admin_agent, Role.helpdesk_agent)
FOLLOWERS = (Role.operator, *FILERS)
EVERYONE = tuple(Role)


@router.get("/v1/servicerequests/supporttopics", response_model=Collection[SupportTopicOut])
def list_support_topics(ctx: RequestContext = allow(*EVERYONE)) -> Collection[SupportTopicOut]:
    topics = [presenters.topic_out(topic) for topic in service.SUPPORT_TOPICS]
    return Collection[SupportTopicOut](total_count=len(topics), items=topics)


@router.post("/v1/servicerequests/{agentLocale}", status_code=201, response_model=ServiceRequestOut,
             response_model_exclude_none=True)
def file_service_request(body: ServiceRequestIn, agent_locale: str = Path(
                             alias="agentLocale", max_length=16, json_schema_extra={"enum": service.agent_locales()},
                             description="The agent's locale, such as en-US or fr-FR (in any letter case)."),
                         ctx: RequestContext = allow(*FILERS)) -> JSONResponse:
    """Files a request. On topic 1001 ("CSP purchase/refund on behalf of customers") it must carry
    `refundRequest` with the four items of rule R6, and only an admin agent may file it."""
    refund = body.refund_request
    new = service.NewServiceRequest(
        agent_locale=agent_locale, title=body.title, description=body.description, severity=body.severity,
        support_topic_id=body.support_topic_id, contact=service.Contact(**body.primary_contact.model_dump()),
        country_code=body.country_code, customer_id=body.customer_id,
        refund=service.RefundItems(**refund.model_dump()) if refund is not None else None)

    def file() -> tuple[int, dict]:
        view = service.file_request(ctx.db, principal=ctx.principal, new=new, now=ctx.now, request_id=ctx.request_id)
        return 201, presenters.service_request_json(view)

    return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                    operation=f"POST /v1/servicerequests/{agent_locale}", payload=body.model_dump(mode="json"),
                    now=ctx.now, work=file)


def _list(request: Request, ctx: RequestContext, page: PageRequest,
          filters: service.RequestFilter) -> Collection[ServiceRequestOut]:
    statement = service.search_requests(ctx.db, principal=ctx.principal, filters=filters)
    result = paginate(ctx.db, statement, page, sort=service.REQUEST_LIST_ORDER)
    views = {view.request.id: view for view in service.views_of(ctx.db, result.rows)}
    return to_collection(result, request.url.path, dict(request.query_params),
                         lambda row: presenters.service_request_out(views[row.id]))


@router.get("/v1/servicerequests", response_model=Collection[ServiceRequestOut], response_model_exclude_none=True)
def list_service_requests(
    request: Request,
    ctx: RequestContext = allow(*FOLLOWERS),
    page: PageRequest = Depends(page_params),
    status: str | None = Query(None, max_length=20, description="open, attention_needed or closed.",
                               json_schema_extra={"enum": list(service.STATUSES)}),
    support_topic_id: str | None = Query(None, alias="supportTopicId", max_length=20, json_schema_extra={
        "enum": [str(topic.id) for topic in service.SUPPORT_TOPICS]}),
    customer_id: str | None = Query(None, alias="customerId", max_length=36),
    start_date: IsoDateTime | None = Query(None, alias="startDate", description="Created at or after (ISO 8601)."),
    end_date: IsoDateTime | None = Query(None, alias="endDate", description="Created at or before (ISO 8601)."),
    refund_decision: str | None = Query(None, alias="refundDecision", max_length=20,
                                        json_schema_extra={"enum": list(service.REFUND_DECISIONS)},
                                        description="Refund requests only: pending, approved or rejected."),
) -> Collection[ServiceRequestOut]:
    filters = service.RequestFilter(status=status, support_topic_id=support_topic_id, customer_id=customer_id,
                                    start_date=start_date, end_date=end_date, refund_decision=refund_decision)
    return _list(request, ctx, page, filters)


@router.get("/v1/customers/{customerId}/servicerequests", response_model=Collection[ServiceRequestOut],
            response_model_exclude_none=True)
def list_customer_service_requests(
    request: Request,
    customer_id: str = Path(alias="customerId"),
    ctx: RequestContext = allow(*FOLLOWERS),
    page: PageRequest = Depends(page_params),
) -> Collection[ServiceRequestOut]:
    customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return _list(request, ctx, page, service.RequestFilter(customer_id=customer_id))


@router.get("/v1/servicerequests/{requestId}", response_model=ServiceRequestOut, response_model_exclude_none=True)
def get_service_request(request_id: str = Path(alias="requestId"),
                        ctx: RequestContext = allow(*FOLLOWERS)) -> ServiceRequestOut:
    return presenters.service_request_out(service.get_request(ctx.db, principal=ctx.principal, request_id=request_id))


@router.patch("/v1/servicerequests/{requestId}", response_model=ServiceRequestOut, response_model_exclude_none=True)
def update_service_request(body: ServiceRequestPatchIn, request_id: str = Path(alias="requestId"),
                           ctx: RequestContext = allow(*FOLLOWERS)) -> ServiceRequestOut:
    """Adds a note (`{"newNote": {"text": "..."}}`) or closes the request (`{"status": "closed"}`); the
    operator may also set `open` or `attention_needed`."""
    view = service.update_request(ctx.db, principal=ctx.principal, request_id=request_id,
                                  note=body.new_note.text if body.new_note else None, status=body.status,
                                  now=ctx.now, request_id_header=ctx.request_id)
    return presenters.service_request_out(view)


# --- attachments ----------------------------------------------------------------------------------

@router.post("/v1/servicerequests/{requestId}/attachments", status_code=201,
             response_model=Collection[AttachmentOut])
def add_attachments(
    request_id: str = Path(alias="requestId"),
    files: list[UploadFile] | None = File(None, description="One or more files, each a part named 'files'."),
    ctx: RequestContext = allow(*FOLLOWERS),
) -> JSONResponse:
    """Attaches files (multipart/form-data, parts named `files`); all of them or none. Limits are the
    operator's policies `support_attachment_max_bytes`, `support_attachments_per_request` and
    `support_attachment_types`."""
    uploads = [attachments.Upload(file_name=upload.filename or "", size=upload.size or 0, stream=upload.file)
               for upload in files or []]
    rows = attachments.add_attachments(ctx.db, open_storage(ctx.desk.settings), principal=ctx.principal,
                                       request_id=request_id, uploads=uploads, now=ctx.now,
                                       request_id_header=ctx.request_id)
    items = [presenters.attachment_out(row) for row in rows]
    body = Collection[AttachmentOut](total_count=len(items), items=items)
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=201)


@router.get("/v1/servicerequests/{requestId}/attachments", response_model=Collection[AttachmentOut])
def list_attachments(request_id: str = Path(alias="requestId"),
                     ctx: RequestContext = allow(*FOLLOWERS)) -> Collection[AttachmentOut]:
    view = service.get_request(ctx.db, principal=ctx.principal, request_id=request_id)
    items = [presenters.attachment_out(row) for row in view.attachments]
    return Collection[AttachmentOut](total_count=len(items), items=items)


@router.get("/v1/servicerequests/{requestId}/attachments/{attachmentId}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes."}})
def download_attachment(request_id: str = Path(alias="requestId"), attachment_id: str = Path(alias="attachmentId"),
                        ctx: RequestContext = allow(*FOLLOWERS)) -> StreamingResponse:
    row = attachments.get_attachment(ctx.db, principal=ctx.principal, request_id=request_id,
                                     attachment_id=attachment_id)
    chunks = attachments.attachment_bytes(open_storage(ctx.desk.settings), row)
    return StreamingResponse(chunks, media_type=row.content_type, headers=attachments.download_headers(row))


# --- the operator's queue: refund decisions (rule R6) -----------------------------------------------

@router.post("/v1/servicerequests/{requestId}/refundrequest/approve", response_model=ServiceRequestOut,
             response_model_exclude_none=True)
def approve_refund(body: RefundApprovalIn, request_id: str = Path(alias="requestId"),
                   ctx: RequestContext = allow(Role.operator)) -> JSONResponse:
    """Approves a refund request: cancels the lines it names (keys revoked, links dead) and credits the
    amount approved (by default what was asked). After the cancellation window, `overrideReason` is
    required and recorded. A request is decided once."""
    def decide() -> tuple[int, dict]:
        view = refunds.approve(ctx.db, principal=ctx.principal, request_id=request_id, amount=body.amount,
                               note=body.note, override_reason=body.override_reason, now=ctx.now,
                               request_id_header=ctx.request_id)
        return 200, presenters.service_request_json(view)

    return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                    operation=f"POST /v1/servicerequests/{request_id}/refundrequest/approve",
                    payload=body.model_dump(mode="json"), now=ctx.now, work=decide)


@router.post("/v1/servicerequests/{requestId}/refundrequest/reject", response_model=ServiceRequestOut,
             response_model_exclude_none=True)
def reject_refund(body: RefundRejectionIn, request_id: str = Path(alias="requestId"),
                  ctx: RequestContext = allow(Role.operator)) -> JSONResponse:
    """Rejects a refund request with the reason the partner reads; nothing is cancelled or credited."""
    def decide() -> tuple[int, dict]:
        view = refunds.reject(ctx.db, principal=ctx.principal, request_id=request_id, reason=body.reason,
                              now=ctx.now, request_id_header=ctx.request_id)
        return 200, presenters.service_request_json(view)

    return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                    operation=f"POST /v1/servicerequests/{request_id}/refundrequest/reject",
                    payload=body.model_dump(mode="json"), now=ctx.now, work=decide)
