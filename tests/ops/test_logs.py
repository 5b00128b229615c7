"""PARTNERDESK_LOG_FORMAT=json: one JSON line per request with its ids, route template, status and duration,
and never a token, a secret or a download link's token; the default stays the server's usual text."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from partnerdesk.accounts.models import Role
from partnerdesk.app import create_app
from partnerdesk.ops.logs import StderrHandler

REQUEST_ID = "6f1c9a52-7d8e-4b0f-9a1d-2e3f4a5b6c7d"
CORRELATION_ID = "0b7e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def json_client(desk):
    partnerdesk_logger = logging.getLogger("partnerdesk")
    handlers = list(partnerdesk_logger.handlers)
    desk.settings.log_format = "json"
    yield TestClient(create_app(desk=desk))
    partnerdesk_logger.handlers[:] = handlers  # the JSON handler stays with this test
    for name in ("uvicorn.access", "granian.access", "gunicorn.access"):
        logging.getLogger(name).disabled = False


def access_lines(text: str) -> list[dict]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "partnerdesk.access"]


def test_each_request_writes_one_json_line_with_its_ids_route_status_and_duration(json_client, actors, capsys):
    token = actors(Role.admin_agent).token
    capsys.readouterr()
    answer = json_client.get("/v1/customers?size=5", headers={"Authorization": f"Bearer {token}",
                                                              "MS-RequestId": REQUEST_ID,
                                                              "MS-CorrelationId": CORRELATION_ID})
    assert answer.status_code == 200
    captured = capsys.readouterr().err
    [line] = access_lines(captured)
    assert line["requestId"] == REQUEST_ID and line["correlationId"] == CORRELATION_ID
    assert line["method"] == "GET" and line["route"] == "/v1/customers" and line["status"] == 200
    assert isinstance(line["durationMs"], float | int) and line["durationMs"] >= 0
    assert line["level"] == "info" and line["time"].endswith("+00:00")
    assert token not in captured


def test_a_download_link_is_logged_by_its_route_template_not_its_token(json_client, software, capsys):
    link = software.link()
    capsys.readouterr()
    assert json_client.get(link).status_code == 200
    captured = capsys.readouterr().err
    [line] = access_lines(captured)
    assert line["route"] == "/v1/downloads/{token}" and line["status"] == 200
    assert line["requestId"]  # one is made up when the client sent none
    assert link.rsplit("/", 1)[1] not in captured


def test_a_secret_in_a_logged_message_is_masked(json_client, capsys):
    capsys.readouterr()
    logging.getLogger("partnerdesk").warning("calling with pdk_abcdefghijklmnop and whsec_ABCDEFGHIJKLMNOP")
    [line] = [json.loads(text) for text in capsys.readouterr().err.splitlines() if text.startswith("{")]
    assert "pdk_abcdefghijklmnop" not in line["message"] and "whsec_ABCDEFGHIJKLMNOP" not in line["message"]
    assert line["level"] == "warning"


def test_the_default_format_writes_no_json_access_line(client, capsys):
    assert not any(isinstance(handler, StderrHandler) for handler in logging.getLogger("partnerdesk").handlers)
    capsys.readouterr()
    assert client.get("/healthz").status_code == 200
    assert access_lines(capsys.readouterr().err) == []
