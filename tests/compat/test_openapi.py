"""The OpenAPI document says how bodies are read (issue 16): the ignored-fields header, no closed schemas,
the error's source, the new paths and paging parameters."""

from __future__ import annotations


def test_the_document_tells_what_the_server_does(client):
    document = client.get("/openapi.json").json()
    create = document["paths"]["/v1/customers"]["post"]
    assert "Partner-Desk-Ignored-Fields" in create["responses"]["201"]["headers"]
    assert "any letter case" in create["description"]
    customer = document["components"]["schemas"]["CustomerIn"]
    assert customer.get("additionalProperties") is not False  # unknown fields are accepted (and named)
    assert "companyName" not in document["components"]["schemas"]["CompanyProfileIn"].get("required", [])
    assert "source" in document["components"]["schemas"]["Error"]["required"]
    assert {"/v1/auditrecords", "/v1/customers/{customerId}/artifacts/reservedinstance/{resourceId}"} <= set(
        document["paths"])
    listed = {parameter["name"] for parameter in document["paths"]["/v1/customers"]["get"]["parameters"]}
    assert {"offset", "size", "seekOperation", "MS-ContinuationToken"} <= listed
