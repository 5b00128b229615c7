"""Secrets never reach the logs."""

from __future__ import annotations

import logging

from partnerdesk.core.logging import RedactSecretsFilter, redact


def test_tokens_link_secrets_and_passwords_are_masked():
    line = ('127.0.0.1 - "GET /v1/downloads/AbCdEf0123456789xyz?x=1 HTTP/1.1" 200 '
            "Bearer pdk_abcdefghijklmnop whsec_QUJDREVGR0hJSktM password=hunter2&next=/")
    masked = redact(line)
    for secret in ("AbCdEf0123456789xyz", "pdk_abcdefghijklmnop", "whsec_QUJDREVGR0hJSktM", "hunter2"):
        assert secret not in masked
    assert "/v1/downloads/[redacted]" in masked and "next=/" in masked


def test_the_filter_masks_arguments_of_access_log_records():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s"',
                               ("127.0.0.1", "GET", "/v1/downloads/SeCrEtToKeN12345"), None)
    RedactSecretsFilter().filter(record)
    assert "SeCrEtToKeN12345" not in record.getMessage()


def test_the_app_masks_download_links_in_access_logs_whatever_server_runs_it(tmp_path):
    from partnerdesk.app import create_app
    from partnerdesk.config import Settings

    create_app(Settings(data_dir=tmp_path, secret_key="k"))  # as `uvicorn --factory` or granian would
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    access = logging.getLogger("uvicorn.access")
    handler = Keep()
    access.addHandler(handler)
    try:
        access.warning('%s - "%s %s HTTP/1.1" %d', "127.0.0.1", "GET",
                       "/v1/downloads/Wdo0XG_xIBCG-pM7JgAQ0sAkXSPRvlrlqWWkSrfZ3oI", 200)
    finally:
        access.removeHandler(handler)
    assert seen and "Wdo0XG_xIBCG" not in seen[0] and "/v1/downloads/[redacted]" in seen[0]
