"""Settings read from `PARTNERDESK_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from partnerdesk.core.db import DEFAULT_POOL_SIZE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARTNERDESK_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    # Connections each process keeps at most (one pool per process, no overflow). Against PostgreSQL a
    # deployment opens up to processes x this: 4 server workers x 20 = 80 of PostgreSQL's default 100.
    database_pool_size: int = Field(default=DEFAULT_POOL_SIZE, ge=2, le=1000)
    # psycopg prepares a statement on the server after it ran 5 times on a connection. Turn this off
    # behind a pooler that hands each transaction a different server connection (PgBouncer in
    # transaction mode before 1.21, or without `max_prepared_statements`).
    database_prepared_statements: bool = True
    sandbox: bool = False
    base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Given in the environment, it wins over the generated key file in the data dir.
    secret_key: str | None = None
    max_body_bytes: int = 1_048_576
    # Run the background job worker (webhook deliveries) inside the app process; `serve` turns it on.
    run_worker: bool = False
    worker_poll_seconds: float = 1.0
    # Let webhook endpoints point to private, loopback or link-local addresses (development, receivers
    # inside the operator's own network). Off: a partner's URL cannot reach into the desk's network.
    webhook_private_targets: bool = False
    # `json`: one JSON object per log line, and one access line per request (docs/operations.md).
    log_format: Literal["text", "json"] = "text"
    # Serve /metrics without the operator's token (a Prometheus scraper inside a private network).
    metrics_public: bool = False
    # Installation files: a folder (`files_dir`, default `<data_dir>/files`) or an S3-compatible store.
    storage_backend: Literal["local", "s3"] = "local"
    files_dir: Path | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_prefix: str = ""
    # The largest installation file the operator API accepts in one upload (the CLI has no limit).
    max_upload_bytes: int = 64 * 1024**3
    # Where sign-in throttling and request-rate limits count (core/throttling.py): `memory` for a desk served by
    # one process, `database` when several server processes share the database (counts also survive restarts).
    throttle_storage: Literal["memory", "database"] = "memory"
    # One request adding attachments to a service request (several files at once); each file is also held
    # to the `support_attachment_max_bytes` policy.
    max_attachment_body_bytes: int = 256 * 1024**2
    # Emails to a service request's contact at each status change: smtp://user:password@host:587 (STARTTLS
    # when the server offers it), smtps://host:465 (TLS from the start), or none to send no email.
    smtp_url: str | None = None
    smtp_from: str = "Partner Desk <no-reply@partnerdesk.invalid>"
    # Who issues the partners' invoices: printed at the head of every statement. The address is one
    # line per postal line, separated by "|" or newlines in the environment.
    operator_name: str = "Partner Desk Operator"
    operator_address: str = "1 rue de la Paix|75002 Paris|France"
    # Invoice numbers read <prefix>-<year>-<six digits>, as PD-2026-000123.
    invoice_number_prefix: str = Field(default="PD", pattern=r"^[A-Z0-9]{1,8}$")
    # A Unicode TrueType font for invoice PDFs (French accents and the euro sign); Debian's fonts-dejavu-core.
    invoice_font_path: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    invoice_bold_font_path: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'partnerdesk.db').resolve()}"

    @property
    def resolved_files_dir(self) -> Path:
        return (self.files_dir or self.data_dir / "files").resolve()

    @property
    def public_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def operator_address_lines(self) -> list[str]:
        return [line.strip() for line in self.operator_address.replace("\n", "|").split("|") if line.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
