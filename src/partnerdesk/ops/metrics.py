"""Prometheus metrics: requests by route template and status, latencies, checkouts, downloads, errors by code.

Per process by default. With `PROMETHEUS_MULTIPROC_DIR` set to an empty folder before the server
processes start (as prometheus-client documents for gunicorn and uvicorn workers), every process
writes its samples there and `/metrics` answers the sum over all of them.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

MULTIPROCESS_SETTING = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry()

REQUESTS = Counter("partnerdesk_http_requests", "HTTP requests answered, by method, route template and status.",
                   ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("partnerdesk_http_request_duration_seconds",
                    "Time from the request's arrival to the end of its answer, by method and route template.",
                    ["method", "route"], registry=REGISTRY,
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
CHECKOUTS = Counter("partnerdesk_checkouts", "Carts checked out into orders (API 201, portal redirect).",
                    registry=REGISTRY)
DOWNLOADS = Counter("partnerdesk_downloads", "Installation files served through download links (200 or 206).",
                    registry=REGISTRY)
ERRORS = Counter("partnerdesk_errors", "Error answers by their numeric error code (`code` of the body).",
                 ["code"], registry=REGISTRY)

# Route templates whose successful answers are business events.
CHECKOUT_SUFFIX = "/checkout"
DOWNLOAD_ROUTE = "/v1/downloads/{token}"
UNMATCHED = "unmatched"  # a path no route knows: one label, whatever was asked (no unbounded label values)


def observe(*, method: str, route: str | None, status: int, seconds: float, error_code: str | None) -> None:
    template = route or UNMATCHED
    REQUESTS.labels(method, template, str(status)).inc()
    LATENCY.labels(method, template).observe(seconds)
    if method == "POST" and template.endswith(CHECKOUT_SUFFIX) and status in (201, 303):
        CHECKOUTS.inc()
    if method == "GET" and template == DOWNLOAD_ROUTE and status in (200, 206):
        DOWNLOADS.inc()
    if error_code is not None:
        ERRORS.labels(error_code).inc()


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_SETTING))


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    if is_multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
