"""Partner Center's Python SDK (`partnercenterservices` from PyPI, unchanged) lists the support topics, files a
service request, reads it back and adds a note, against a running Partner Desk."""

from __future__ import annotations

import uuid

import pytest
from microsoft.store.partnercenterservices import MicrosoftPartnerStoreApis
from microsoft.store.partnercenterservices.models import (
    MicrosoftPartnerSdkContractsV1ServiceRequest as ServiceRequest,
)
from microsoft.store.partnercenterservices.models import (
    MicrosoftPartnerSdkContractsV1ServiceRequestContact as Contact,
)
from microsoft.store.partnercenterservices.models import (
    MicrosoftPartnerSdkContractsV1ServiceRequestNote as Note,
)
from msrest.authentication import BasicTokenAuthentication

from partnerdesk.accounts.models import Role

VERSION = "1"


def _ids() -> dict[str, str]:
    return {"ms_request_id": str(uuid.uuid4()), "ms_correlation_id": str(uuid.uuid4())}


@pytest.fixture
def sdk(live_server, actors) -> MicrosoftPartnerStoreApis:
    caller = actors.new(Role.admin_agent)
    return MicrosoftPartnerStoreApis(BasicTokenAuthentication({"access_token": caller.token}), base_url=live_server)


def test_the_sdk_lists_topics_files_a_request_reads_it_and_adds_a_note(sdk):
    topics = sdk.getvversionservicerequestssupporttopics(VERSION, **_ids())

    names = {topic.id: topic.name for topic in topics.items}
    assert topics.total_count == len(names) >= 6
    assert names[1001] == "CSP purchase/refund on behalf of customers"

    filed = sdk.postvversionservicerequestsagent.locale("en-US", ServiceRequest(
        title="A key does not activate", description="Office 2024 says the key is blocked.", severity="critical",
        support_topic_id="1003", primary_contact=Contact(first_name="Ana", last_name="Silva",
                                                         email="ana@contoso.example", phone_number="+33 4 72 00 00 00"),
    ), VERSION, **_ids())

    assert filed.id and filed.status == "open" and filed.severity == "critical"
    assert filed.organization.name == "Contoso Reseller" and filed.created_date is not None
    read = sdk.getvversionservicerequestsservice.id(filed.id, VERSION, **_ids())
    assert read.title == "A key does not activate" and read.primary_contact.email == "ana@contoso.example"

    noted = sdk.patchvversionservicerequestsservice.id(
        filed.id, ServiceRequest(new_note=Note(text="It works after a restart.")), VERSION, **_ids())

    assert [note.text for note in noted.notes] == ["It works after a restart."]
